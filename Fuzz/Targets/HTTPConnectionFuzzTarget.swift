// `@testable` imports need a debug build (`-enable-testing`); a release build of the package skips this target.
#if DEBUG
import HTTPTypes
import MultiProdigyCore
import NIOCore
import NIOHTTP1

@testable import MultiProdigyServer

/// The HTTP/1.x connection state machine under any sequence of events a connection can see.
///
/// A driver plays the decoder (whole requests in order: a head, body chunks, an end), the handler
/// (verdicts on heads, writing each answer's head, body and end, serving what waited), the clock, the
/// client (reads, closing its side) and the server (shutdown), in an order the input picks.
/// Properties: one answer at a time, numbered in order, none after the connection's last; requests
/// answered in the order they came, each once, none skipped, with exactly the body the client sent (or
/// as over its limit only when it was; none for a head refused before its body); an answer whose head
/// says `Connection: close` is the last, and every request that asked to close gets that head; a
/// written part is never refused while an answer is in flight; once the events stop and the answers
/// are written, every request that ended was answered and nothing waits (or the connection closed);
/// no assertion fails.
enum HTTPConnectionFuzzTarget {
    static let summary = "HTTP/1.x connection state machine: answers one at a time, in order, with the bodies sent"

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        var input = FuzzInput(bytes)
        var driver = Driver()
        var steps = 0
        while !driver.closed, steps < 400, !input.isAtEnd {
            steps += 1
            try driver.step(input.byte(), &input)
        }
        try driver.drain(&input)
    }

    /// The connection's world around the state machine, and what it has seen so far.
    struct Driver {
        var machine = HTTPConnectionStateMachine(
            limits: .init(head: .seconds(2), body: .seconds(3), idle: .seconds(5)),
            openedAt: NIODeadline.uptimeNanoseconds(1_000_000_000)
        )
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var closed = false
        var inputClosed = false

        /// A request the client is sending or has sent.
        struct Sent {
            var head: HTTPRequestHead
            var chunks: [[UInt8]]
            var sentChunks = 0
            var ended = false
            var body: [UInt8] { chunks.prefix(sentChunks).flatMap { $0 } }
        }
        var requests: [Sent] = []
        /// The next request whose head the machine should ask about, and the next to be answered.
        var nextVerified = 0
        var nextAnswered = 0
        var verdictLimits: [Int: (limit: Int, declared: Int?)] = [:]

        /// The answer in flight: its number, whether its head was written and said `Connection: close`,
        /// and whether its request asked to close the connection.
        var inFlight: (number: UInt64, wroteHead: Bool, saidClose: Bool, requestAskedToClose: Bool)?
        var answersStarted: UInt64 = 0
        /// The connection's last answer was written: nothing more may be answered.
        var lastAnswerWritten = false

        mutating func step(_ event: UInt8, _ input: inout FuzzInput) throws(FuzzViolation) {
            switch event % 10 {
            case 0, 1, 2:
                guard !inputClosed else { return }
                try sendNextPart(&input)
            case 3, 4:
                try writeAnswerPart(input.byte(), &input)
            case 5:
                now = now + .milliseconds(Int64(input.byte()) * 40)
                try perform(machine.deadlineCheck(at: now), &input)
            case 6:
                try perform(machine.read(), &input)
            case 7:
                switch input.byte() % 4 {
                case 0:
                    inputClosed = true
                    try perform(machine.inputClosed(), &input)
                case 1: try perform(machine.shouldQuiesce(), &input)
                case 2: try perform(machine.errorCaught(.notHTTP(reason: "fuzz")), &input)
                default: try perform(machine.errorCaught(.other), &input)
                }
            case 8:
                if let inFlight {
                    let action = machine.answerTaskEnded(inFlight.number)
                    try FuzzViolation.require(action == .closeNow, "an answer's task ended mid-answer without closing")
                    closed = true
                } else {
                    let action = machine.answerTaskEnded(answersStarted)
                    try FuzzViolation.require(action == .wait, "a finished answer's task end did something: \(action)")
                }
            default:
                machine.bytesArrived(at: now)
            }
        }

        /// The decoder hands on the client's next request part, starting a new request if none is open.
        mutating func sendNextPart(_ input: inout FuzzInput) throws(FuzzViolation) {
            machine.bytesArrived(at: now)
            if let last = requests.indices.last, !requests[last].ended {
                let part: HTTPServerRequestPart
                if requests[last].sentChunks < requests[last].chunks.count {
                    part = .body(ByteBuffer(bytes: requests[last].chunks[requests[last].sentChunks]))
                    requests[last].sentChunks += 1
                } else {
                    part = .end(nil)
                    requests[last].ended = true
                }
                return try perform(machine.channelRead(part, at: now), &input)
            }
            let shape = input.byte()
            var headers = HTTPHeaders()
            if shape & 1 == 1 { headers.add(name: "connection", value: "close") }
            let chunkCount = Int(shape >> 1) % 4
            let chunks = (0..<chunkCount).map { _ in input.take(Int(input.byte()) % 16 + 1) }
            let head = HTTPRequestHead(
                version: shape & 0x40 == 0 ? .http1_1 : .http1_0,
                method: shape & 0x80 == 0 ? .POST : .HEAD,
                uri: "/r/\(requests.count)",
                headers: headers
            )
            requests.append(Sent(head: head, chunks: chunks))
            try perform(machine.channelRead(.head(head), at: now), &input)
        }

        /// Writes the next part of the answer in flight: its head, a piece of body, or its end
        /// (`pick` chooses; `finishing` always moves on to the end).
        mutating func writeAnswerPart(_ pick: UInt8, finishing: Bool = false, _ input: inout FuzzInput) throws(FuzzViolation) {
            guard let answer = inFlight else {
                let action = machine.write(.body(ByteBuffer(string: "x")), at: now)
                try FuzzViolation.require(action == .fail, "a part was written with no answer in flight: \(action)")
                return
            }
            let writeAction: HTTPConnectionStateMachine.WriteAction
            if !answer.wroteHead {
                let length: Int? = pick & 1 == 0 ? nil : 1
                writeAction = machine.write(.head(HTTPResponse(status: .ok), bodyLength: length), at: now)
                guard case .writeHead(_, _, let connection, _) = writeAction else {
                    throw FuzzViolation("the head of the answer in flight was not written: \(writeAction)")
                }
                try FuzzViolation.require(
                    connection == "close" || !answer.requestAskedToClose,
                    "a request that asked to close got an answer without Connection: close"
                )
                inFlight?.wroteHead = true
                inFlight?.saidClose = connection == "close"
                return
            } else if pick & 3 == 0, !finishing {
                writeAction = machine.write(.body(ByteBuffer(string: "x")), at: now)
            } else {
                inFlight = nil
                writeAction = machine.write(.end(nil), at: now)
            }
            switch writeAction {
            case .fail:
                throw FuzzViolation("a part of the answer in flight was refused")
            case .writeEnd(_, _, let then):
                switch then {
                case .servePipelined:
                    try FuzzViolation.require(!answer.saidClose, "an answer that said Connection: close was not the last")
                    try servePipelined(&input)
                case .closeWhenWritten:
                    lastAnswerWritten = true
                    closed = true
                case .lingerWhenWritten:
                    lastAnswerWritten = true
                }
            default:
                break
            }
        }

        /// The events stop: the answer in flight is written to its end, the request being sent is
        /// finished, and what waited is served, until nothing moves. Then every request that ended
        /// must have been answered, and nothing may wait, unless the connection closed.
        mutating func drain(_ input: inout FuzzInput) throws(FuzzViolation) {
            var rounds = 0
            while !closed, rounds < 256 {
                rounds += 1
                if inFlight != nil {
                    try writeAnswerPart(1, finishing: true, &input)
                } else if !inputClosed, !lastAnswerWritten, let last = requests.last, !last.ended {
                    try sendNextPart(&input)
                } else {
                    break
                }
            }
            guard !closed, !lastAnswerWritten else { return }
            try FuzzViolation.require(machine.waitingParts == 0, "\(machine.waitingParts) request parts wait with no answer in flight")
            let ended = requests.filter(\.ended).count
            try FuzzViolation.require(
                nextAnswered == ended,
                "\(ended) requests ended but \(nextAnswered) were answered, and the connection stays open"
            )
        }

        /// Serves what waited, as the handler does after an answer.
        mutating func servePipelined(_ input: inout FuzzInput) throws(FuzzViolation) {
            var rounds = 0
            while !closed, rounds < 1_024, let action = machine.servePipelined(at: now) {
                rounds += 1
                try perform(action, &input)
            }
        }

        /// Carries out `action` as the handler would, checking what it says.
        mutating func perform(_ action: HTTPConnectionStateMachine.Action, _ input: inout FuzzInput) throws(FuzzViolation) {
            switch action {
            case .wait, .read, .sendContinue:
                break
            case .verifyHead(let head):
                try FuzzViolation.require(nextVerified < requests.count, "a head was verified that was never sent")
                try FuzzViolation.require(head.uri == requests[nextVerified].head.uri, "heads were verified out of order")
                let index = nextVerified
                nextVerified += 1
                try perform(machine.headVerified(verdict(on: head, index: index, &input), at: now), &input)
            case .answer(let number, let source):
                try FuzzViolation.require(inFlight == nil, "answer \(number) started while answer \(inFlight?.number ?? 0) was in flight")
                try FuzzViolation.require(!lastAnswerWritten, "answer \(number) started after the connection's last")
                try FuzzViolation.require(number == answersStarted + 1, "answer \(number) followed answer \(answersStarted)")
                answersStarted = number
                let asked = nextAnswered < requests.count ? Self.asksToClose(requests[nextAnswered].head) : false
                inFlight = (number, false, false, asked)
                if case .route(let parsed, let body) = source {
                    let index = Int(parsed.request.path?.split(separator: "/").last ?? "") ?? -1
                    try FuzzViolation.require(index == nextAnswered, "request \(index) was answered where \(nextAnswered) was next")
                    nextAnswered += 1
                    let sent = requests[index]
                    let limits = verdictLimits[index]
                    switch body {
                    case .whole(let bytes):
                        // A head refused before its body is answered without it; any other gets the body exactly.
                        guard let limits else {
                            try FuzzViolation.require(bytes.readableBytes == 0, "request \(index) was refused with a body")
                            break
                        }
                        try FuzzViolation.require(sent.ended, "request \(index) was answered before its body ended")
                        try FuzzViolation.require(Array(bytes.readableBytesView) == sent.body, "request \(index)'s body changed")
                        try FuzzViolation.require(sent.body.count <= limits.limit, "request \(index)'s body passed its limit")
                    case .overLimit(let limit):
                        try FuzzViolation.require(
                            sent.body.count > limit || (limits?.declared ?? 0) > limit,
                            "request \(index) was refused as over its limit of \(limit) with \(sent.body.count) bytes"
                        )
                    }
                } else {
                    // An invalid head's refusal answers the request just verified.
                    try FuzzViolation.require(
                        nextAnswered == nextVerified - 1,
                        "an invalid head was answered where request \(nextAnswered) was next"
                    )
                    nextAnswered += 1
                }
            case .refuse:
                try FuzzViolation.require(inFlight == nil, "the connection refused while an answer was in flight")
                try FuzzViolation.require(!lastAnswerWritten, "the connection refused after its last answer")
                answersStarted += 1
                inFlight = (answersStarted, false, false, true)
            case .servePipelined:
                try servePipelined(&input)
            case .close, .closeNow:
                closed = true
                machine.channelInactive()
            }
        }

        /// Whether `head` asks to close the connection after its answer: `Connection: close`, or HTTP/1.0.
        static func asksToClose(_ head: HTTPRequestHead) -> Bool {
            !head.isKeepAlive
        }

        /// The handler's verdict on `head`, as the input picks it.
        mutating func verdict(on head: HTTPRequestHead, index: Int, _ input: inout FuzzInput) -> HTTPConnectionStateMachine.HeadVerdict {
            let request = HTTPRequest(method: head.method == .HEAD ? .get : .post, scheme: nil, authority: nil, path: head.uri)
            let parsed = HTTPConnectionStateMachine.ParsedHead(request: request, receivedAt: .now)
            let pick = input.byte()
            switch pick % 8 {
            case 0:
                return .invalid(GatewayError(status: .badRequest, message: "fuzz", type: "invalid_request_error"))
            case 1:
                return .refusedBeforeBody(parsed)
            default:
                let limit = Int(input.byte()) % 48
                let total = requests[index].chunks.reduce(0) { $0 + $1.count }
                let declared: Int? = pick & 8 == 0 ? nil : (pick & 16 == 0 ? total : Int(input.byte()))
                verdictLimits[index] = (limit, declared)
                return .accepted(parsed, bodyLimit: limit, declaredLength: declared, expectsContinue: pick & 32 != 0)
            }
        }
    }
}
#endif
