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
/// Properties: one answer at a time, numbered in order; requests answered in the order they came,
/// each at most once, with exactly the body the client sent (or as over its limit only when it was);
/// a written part is never refused while an answer is in flight; no assertion fails.
enum HTTPConnectionFuzzTarget {
    static let summary = "HTTP/1.x connection state machine: answers one at a time, in order, with the bodies sent"

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        var input = FuzzInput(bytes)
        var driver = Driver()
        var steps = 0
        while !driver.closed, steps < 400 {
            steps += 1
            let event = input.byte()
            if event == 0 && input.isAtEnd { break }
            try driver.step(event, &input)
        }
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

        /// The answer in flight: its number, and which of its parts were written.
        var inFlight: (number: UInt64, wroteHead: Bool)?
        var answersStarted: UInt64 = 0
        var lastAnswerClosed = false

        mutating func step(_ event: UInt8, _ input: inout FuzzInput) throws(FuzzViolation) {
            switch event % 10 {
            case 0, 1, 2:
                guard !inputClosed else { return }
                try sendNextPart(&input)
            case 3, 4:
                try writeAnswerPart(&input)
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

        /// Writes the next part of the answer in flight: its head, a piece of body, or its end.
        mutating func writeAnswerPart(_ input: inout FuzzInput) throws(FuzzViolation) {
            guard let answer = inFlight else {
                let action = machine.write(.body(ByteBuffer(string: "x")), at: now)
                try FuzzViolation.require(action == .fail, "a part was written with no answer in flight: \(action)")
                return
            }
            let pick = input.byte()
            let writeAction: HTTPConnectionStateMachine.WriteAction
            if !answer.wroteHead {
                inFlight?.wroteHead = true
                let length: Int? = pick & 1 == 0 ? nil : 1
                writeAction = machine.write(.head(HTTPResponse(status: .ok), bodyLength: length), at: now)
            } else if pick & 3 == 0 {
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
                case .servePipelined: try servePipelined(&input)
                case .closeWhenWritten: closed = true
                case .lingerWhenWritten: lastAnswerClosed = true
                }
            default:
                break
            }
        }

        /// Serves what waited, as the handler does after an answer.
        mutating func servePipelined(_ input: inout FuzzInput) throws(FuzzViolation) {
            var rounds = 0
            while !closed, rounds < 64, let action = machine.servePipelined(at: now) {
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
                try FuzzViolation.require(number == answersStarted + 1, "answer \(number) followed answer \(answersStarted)")
                answersStarted = number
                inFlight = (number, false)
                if case .route(let parsed, let body) = source {
                    let index = Int(parsed.request.path?.split(separator: "/").last ?? "") ?? -1
                    try FuzzViolation.require(index == nextAnswered, "request \(index) was answered where \(nextAnswered) was next")
                    nextAnswered += 1
                    let sent = requests[index]
                    let limits = verdictLimits[index]
                    switch body {
                    case .whole(let bytes):
                        // A refused head is answered without its body; any other gets the body exactly.
                        if let limits {
                            try FuzzViolation.require(sent.ended, "request \(index) was answered before its body ended")
                            try FuzzViolation.require(Array(bytes.readableBytesView) == sent.body, "request \(index)'s body changed")
                            try FuzzViolation.require(sent.body.count <= limits.limit, "request \(index)'s body passed its limit")
                        }
                    case .overLimit(let limit):
                        try FuzzViolation.require(
                            sent.body.count > limit || (limits?.declared ?? 0) > limit,
                            "request \(index) was refused as over its limit of \(limit) with \(sent.body.count) bytes"
                        )
                    }
                } else {
                    nextAnswered = nextVerified
                }
            case .refuse:
                try FuzzViolation.require(inFlight == nil, "the connection refused while an answer was in flight")
                answersStarted += 1
                inFlight = (answersStarted, false)
            case .servePipelined:
                try servePipelined(&input)
            case .close, .closeNow:
                closed = true
                machine.channelInactive()
            }
        }

        /// The handler's verdict on `head`, as the input picks it.
        mutating func verdict(on head: HTTPRequestHead, index: Int, _ input: inout FuzzInput) -> HTTPConnectionStateMachine.HeadVerdict {
            let request = HTTPRequest(method: head.method == .HEAD ? .get : .post, scheme: nil, authority: nil, path: head.uri)
            let parsed = HTTPConnectionStateMachine.ParsedHead(request: request, receivedAt: .now)
            let pick = input.byte()
            switch pick % 8 {
            case 0:
                nextAnswered = index
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
