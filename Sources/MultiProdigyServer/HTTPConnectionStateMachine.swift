import HTTPTypes
import MultiProdigyCore
import NIOCore
import NIOHTTP1

/// What a client connection served over HTTP/1.x is doing, and what ``GatewayHTTPHandler`` must do
/// next: the handler feeds it every event of the connection (a request part, an answer part, a read
/// asked for, a deadline check, the client's close, a shutdown, an error) and carries out the
/// action each returns. It does no I/O, reads no clock and calls nothing: time is passed in, and
/// what it needs to know about a head (is it valid, may its client send a body) it asks for with
/// ``Action/verifyHead(_:)``.
///
/// The connection's rules (the handler's doc comment says them for clients):
/// - One request is answered at a time; parts that arrive meanwhile wait, in order, unless they are
///   the rest of the answered request's own body, and no read is issued while any wait.
/// - A body over its limit is not buffered: the request is answered at once with a body that fails
///   to read, and the rest of the body is dropped as it comes (``Body/overLimit(limit:)``).
/// - The connection closes after the answer in flight when the request or the server asks for it,
///   when the request after it is not HTTP, and when an answer's end is the connection's end. The
///   answer then says `Connection: close`, and nothing after it is read or served.
/// - An answer that goes while its request's body is still arriving (an early 401 or 413) ends
///   with the sending side closed and the rest of the body read and dropped ("lingering"), so the
///   client is not reset mid-upload.
/// - The front door's time limits are ``ClientDeadlineStateMachine``'s, embedded here.
///
/// ```swift
/// var state = HTTPConnectionStateMachine(limits: limits, openedAt: .now())
/// switch state.channelRead(part, at: .now()) {
/// case .verifyHead(let head): run(state.headVerified(verdict(on: head), at: .now()))
/// case let action: run(action)
/// }
/// ```
struct HTTPConnectionStateMachine {
    /// A request's head as the router takes it, and when it arrived.
    struct ParsedHead: Equatable, Sendable {
        /// The head, `HEAD` already turned into `GET`.
        var request: HTTPRequest
        /// When its head arrived.
        var receivedAt: ContinuousClock.Instant
    }

    /// What the handler found in a head that ``Action/verifyHead(_:)`` gave it.
    enum HeadVerdict: Equatable, Sendable {
        /// Not a request this gateway serves (no valid `Host`, a request line it cannot route):
        /// answered with the error, its body dropped, then the connection closes.
        case invalid(GatewayError)
        /// A request with a body that will be refused whatever the body (no valid key): answered
        /// from its head, its body dropped as it comes, then the connection closes, so a client
        /// without a key cannot hold it open.
        case refusedBeforeBody(ParsedHead)
        /// A request to read whole: its body may have `bodyLimit` bytes; `declaredLength` is its
        /// `Content-Length`, if any, and `expectsContinue` whether it asked for `100 Continue`.
        case accepted(ParsedHead, bodyLimit: Int, declaredLength: Int?, expectsContinue: Bool)
    }

    /// The body a routed request is given.
    enum Body: Equatable, Sendable {
        /// The whole body.
        case whole(ByteBuffer)
        /// A body larger than `limit`, which fails to read (answered 413).
        case overLimit(limit: Int)
    }

    /// What an answer is made from.
    enum AnswerSource: Equatable, Sendable {
        /// The router's answer to the request.
        case route(ParsedHead, body: Body)
        /// The error, answered without routing.
        case refusal(GatewayError)
    }

    /// Why the connection itself answers, with no request to route.
    enum Refusal: Equatable, Sendable {
        /// A request half-sent when its limit ran out (408).
        case requestTimeout
        /// Bytes that are not HTTP, in the decoder's words (400).
        case notHTTP(reason: String)
    }

    /// An error the connection caught.
    enum ConnectionError: Equatable, Sendable {
        /// The decoder found bytes that are not HTTP; it reads nothing more.
        case notHTTP(reason: String)
        /// Anything else (the socket failed): the connection is done.
        case other
    }

    /// What to do after an inbound event, a read, a deadline check or a connection event.
    enum Action: Equatable, Sendable {
        /// Nothing.
        case wait
        /// Judge the head, then report with ``HTTPConnectionStateMachine/headVerified(_:at:)``
        /// before anything else reaches the machine.
        case verifyHead(HTTPRequestHead)
        /// Send `100 Continue`: the request asked for it and its body will be read.
        case sendContinue
        /// Start answer `number` in a task of its own; when that task ends, report with
        /// ``HTTPConnectionStateMachine/answerTaskEnded(_:)``.
        case answer(number: UInt64, AnswerSource)
        /// Write the refusal's answer (head, body, end) through the answer events: the machine
        /// has started it already, as the connection's last.
        case refuse(Refusal)
        /// Serve the parts that waited, one ``HTTPConnectionStateMachine/servePipelined(at:)`` at a
        /// time until it returns nil.
        case servePipelined
        /// Ask the channel for more bytes.
        case read
        /// Close once everything written has gone to the client, or after one more idle period
        /// at most.
        case close
        /// Close at once: an answer stopped before its end, so nothing can follow it.
        case closeNow
    }

    /// What to do after the connection's last answer has been written.
    enum AfterAnswer: Equatable, Sendable {
        /// Serve the parts that waited (``Action/servePipelined``).
        case servePipelined
        /// Close once the answer has gone.
        case closeWhenWritten
        /// Close the sending side once the answer has gone, and read (to drop) the rest of the
        /// request's body until it ends; `readNow` when a read was held back meanwhile.
        case lingerWhenWritten(readNow: Bool)
    }

    /// What to do with a part of an answer that is being written.
    enum WriteAction: Equatable, Sendable {
        /// Nothing is being answered (the connection was closed under the answer): drop the part
        /// and fail its write.
        case fail
        /// Write the head for a client speaking `version`, with this `Connection` field.
        case writeHead(HTTPResponse, version: HTTPVersion, connection: String?, framing: HTTPResponseEncoding.Framing)
        /// Write body bytes, as a chunk when the answer is chunked.
        case writeBody(ByteBuffer, chunked: Bool)
        /// Write nothing and succeed the write: an empty part would end a chunked body, and an
        /// answer to `HEAD` has no body.
        case skip
        /// Write the answer's end (the last chunk, with trailers, when chunked), then `then`.
        case writeEnd(HTTPFields?, chunked: Bool, then: AfterAnswer)
    }

    /// What the connection is reading.
    private enum Reading {
        /// Between requests.
        case idle
        /// A head, waiting for ``HTTPConnectionStateMachine/headVerified(_:at:)``.
        case verifying(HTTPRequestHead)
        /// A request whose body is arriving; `body` is what came so far.
        case body(HTTPRequestHead, ParsedHead, limit: Int, body: ByteBuffer?)
        /// The rest of a request that was answered without its body.
        case discarding
    }

    /// The answer in flight.
    private struct Answering {
        var number: UInt64
        var version: HTTPVersion
        var keepAlive: Bool
        var isHead: Bool
        /// How the answer's body is delimited, once its head is written.
        var framing = HTTPResponseEncoding.Framing.sized
    }

    /// The time limits on the client.
    private(set) var deadlines: ClientDeadlineStateMachine
    private var reading = Reading.idle
    private var answering: Answering?
    private var answersStarted: UInt64 = 0
    /// The answer in flight (or the next) is the connection's last.
    private var closesAfterAnswer = false
    /// The last answer has ended, or the connection is closing: nothing more is read or served.
    private(set) var isClosing = false
    /// The last answer went while its request's body was still arriving: the rest is read and
    /// dropped until it ends, the client closes, or `body_timeout` runs out.
    private var lingering = false
    /// Request parts that arrived while an answer was in flight, in order.
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    /// A read was asked for while parts waited (or while closing): issued once they are served.
    private var readPending = false

    /// A connection that opened at `openedAt`, waiting for its first request.
    init(limits: ClientDeadlineStateMachine.Limits, openedAt: NIODeadline) {
        self.deadlines = ClientDeadlineStateMachine(limits: limits, openedAt: openedAt)
    }

    /// The time limits on the client.
    var limits: ClientDeadlineStateMachine.Limits { deadlines.limits }

    /// How many request parts wait behind the answer in flight.
    var waitingParts: Int { pipelined.count }

    private var isDiscarding: Bool {
        if case .discarding = reading { return true }
        return false
    }

    // MARK: Requests

    /// Bytes came from the client, before the decoder made a part of them: the first of a head
    /// start its limit. `now` is read only then.
    mutating func bytesArrived(at now: @autoclosure () -> NIODeadline) {
        deadlines.bytesArrived(at: now())
    }

    /// The decoder made a request part. `now` is read only when a request starts or ends.
    mutating func channelRead(_ part: HTTPServerRequestPart, at now: @autoclosure () -> NIODeadline) -> Action {
        guard !isClosing else {
            // Lingering: the dropped body's end is the connection's.
            if lingering, case .end = part { return close() }
            return .wait
        }
        // Parts wait behind the ones already waiting, and behind an answer unless they are the
        // rest of its own body.
        if !pipelined.isEmpty || (answering != nil && !isDiscarding) {
            pipelined.append(part)
            return .wait
        }
        return receive(part, at: now())
    }

    /// Serves the next part that waited, if one may be served now; when none is left and a read
    /// was held back, asks for it. Nil when there is nothing (more) to do.
    mutating func servePipelined(at now: @autoclosure () -> NIODeadline) -> Action? {
        if !isClosing, answering == nil || isDiscarding, let part = pipelined.popFirst() {
            return receive(part, at: now())
        }
        if readPending, pipelined.isEmpty, !isClosing {
            readPending = false
            return .read
        }
        return nil
    }

    private mutating func receive(_ part: HTTPServerRequestPart, at now: @autoclosure () -> NIODeadline) -> Action {
        switch (part, reading) {
        case (.head(let head), .idle):
            reading = .verifying(head)
            return .verifyHead(head)
        case (.body(var chunk), .body(let head, let parsed, let limit, let body)):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > limit {
                reading = .discarding
                return startAnswer(to: head, .route(parsed, body: .overLimit(limit: limit)))
            }
            if var body {
                reading = .idle  // releases the buffer's other reference, so the append does not copy it
                body.writeBuffer(&chunk)
                reading = .body(head, parsed, limit: limit, body: body)
            } else {
                reading = .body(head, parsed, limit: limit, body: chunk)
            }
            return .wait
        case (.end, .body(let head, let parsed, _, let body)):
            reading = .idle
            deadlines.bodyEnded(at: now())
            return startAnswer(to: head, .route(parsed, body: .whole(body ?? ByteBuffer())))
        case (.end, .discarding):
            reading = .idle
            deadlines.bodyEnded(at: now())
            guard answering == nil else { return .wait }
            return closesAfterAnswer ? close() : .servePipelined
        case (.body, .discarding), (.body, .idle), (.end, .idle):
            return .wait
        case (.head, .body), (.head, .discarding):
            // The decoder never starts a request before the previous one ended.
            return close()
        case (_, .verifying):
            assertionFailure("a request part arrived before its head was verified")
            return close()
        }
    }

    /// The handler judged the head that ``Action/verifyHead(_:)`` gave it, at `now`.
    mutating func headVerified(_ verdict: HeadVerdict, at now: NIODeadline) -> Action {
        guard case .verifying(let head) = reading else {
            assertionFailure("a verdict on no head")
            return close()
        }
        deadlines.headArrived(at: now)
        switch verdict {
        case .invalid(let error):
            reading = .discarding
            closesAfterAnswer = true
            return startAnswer(to: head, .refusal(error))
        case .refusedBeforeBody(let parsed):
            reading = .discarding
            closesAfterAnswer = true
            return startAnswer(to: head, .route(parsed, body: .whole(ByteBuffer())))
        case .accepted(let parsed, let limit, let declaredLength, let expectsContinue):
            if let declaredLength, declaredLength > limit {
                // Answered at once (413, after the key check), without waiting for a body it will
                // not read. A client waiting for 100 Continue may never send that body: close after.
                reading = .discarding
                if expectsContinue { closesAfterAnswer = true }
                return startAnswer(to: head, .route(parsed, body: .overLimit(limit: limit)))
            }
            reading = .body(head, parsed, limit: limit, body: nil)
            return expectsContinue ? .sendContinue : .wait
        }
    }

    private mutating func startAnswer(to head: HTTPRequestHead, _ source: AnswerSource) -> Action {
        answersStarted &+= 1
        answering = Answering(number: answersStarted, version: head.version, keepAlive: head.isKeepAlive, isHead: head.method == .HEAD)
        deadlines.answerStarted()
        return .answer(number: answersStarted, source)
    }

    /// The channel asks for more bytes.
    mutating func read() -> Action {
        if lingering { return .read }
        if isClosing || !pipelined.isEmpty {
            readPending = true
            return .wait
        }
        return .read
    }

    // MARK: Answers

    /// A part of the answer in flight is to be written; `now` is read only at its end.
    mutating func write(_ part: ResponsePart, at now: @autoclosure () -> NIODeadline) -> WriteAction {
        guard var answering else { return .fail }
        switch part {
        case .head(let head, let bodyLength):
            answering.framing =
                answering.isHead ? .sized : HTTPResponseEncoding.framing(of: head, bodyLength: bodyLength, version: answering.version)
            var connection: String?
            if closesAfterAnswer || !answering.keepAlive || answering.framing == .closeDelimited {
                closesAfterAnswer = true
                connection = "close"
            } else if answering.version.minor == 0 {
                connection = "keep-alive"
            }
            self.answering = answering
            return .writeHead(head, version: answering.version, connection: connection, framing: answering.framing)
        case .body(let body):
            guard body.readableBytes > 0, !answering.isHead else { return .skip }
            return .writeBody(body, chunked: answering.framing == .chunked)
        case .end(let trailers):
            self.answering = nil
            deadlines.answerEnded(at: now())
            let chunked = answering.framing == .chunked
            guard closesAfterAnswer else { return .writeEnd(trailers, chunked: chunked, then: .servePipelined) }
            // The last answer: whatever the client sends after it is neither read nor served.
            isClosing = true
            pipelined.removeAll()
            guard isDiscarding else { return .writeEnd(trailers, chunked: chunked, then: .closeWhenWritten) }
            lingering = true
            let readNow = readPending
            readPending = false
            return .writeEnd(trailers, chunked: chunked, then: .lingerWhenWritten(readNow: readNow))
        }
    }

    /// The task of answer `number` ended: `.closeNow` when that answer is still in flight, since
    /// it stopped before its end.
    func answerTaskEnded(_ number: UInt64) -> Action {
        guard let answering, answering.number == number else { return .wait }
        return .closeNow
    }

    // MARK: Connection events

    /// The periodic check of the client's time limits, at `now`.
    mutating func deadlineCheck(at now: @autoclosure () -> NIODeadline) -> Action {
        guard !isClosing || lingering, let expiry = deadlines.expiry(at: now()) else { return .wait }
        switch expiry {
        case .closeQuietly, .close:
            return close()
        case .requestTimeout:
            return refuse(.requestTimeout)
        }
    }

    /// The client closed its sending side: nothing more can arrive, and it is taken as gone.
    mutating func inputClosed() -> Action {
        pipelined.removeAll()
        if answering == nil { return close() }
        closesAfterAnswer = true
        return .wait
    }

    /// The server is shutting down. Only an answer in flight is worth waiting for: a request still
    /// arriving (half a head, half a body) could hold the drain for as long as its client likes,
    /// and a body being dropped after its answer is owed nothing.
    mutating func shouldQuiesce() -> Action {
        if answering == nil { return close() }
        closesAfterAnswer = true
        return .wait
    }

    /// The connection caught `error`.
    mutating func errorCaught(_ error: ConnectionError) -> Action {
        guard !isClosing else { return .wait }
        guard case .notHTTP(let reason) = error else { return close() }
        // The decoder reads nothing more. Requests waiting behind the error are dropped.
        pipelined.removeAll()
        if answering != nil {
            // The answer in flight is finished first, then the connection closes.
            closesAfterAnswer = true
            return .wait
        }
        // Its request was answered already: a second answer would be one too many.
        if isDiscarding { return close() }
        return refuse(.notHTTP(reason: reason))
    }

    /// The channel closed.
    mutating func channelInactive() {
        pipelined.removeAll()
    }

    /// Starts the connection's own answer, its last.
    private mutating func refuse(_ refusal: Refusal) -> Action {
        pipelined.removeAll()
        answersStarted &+= 1
        answering = Answering(number: answersStarted, version: .http1_1, keepAlive: false, isHead: false)
        deadlines.answerStarted()
        closesAfterAnswer = true
        return .refuse(refusal)
    }

    private mutating func close() -> Action {
        isClosing = true
        pipelined.removeAll()
        return .close
    }
}
