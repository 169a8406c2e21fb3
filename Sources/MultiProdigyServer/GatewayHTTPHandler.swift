import HTTPTypes
import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import MultiProdigyCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Serves HTTP/1.x on one client connection: reads each request whole, answers it through the
/// gateway's router in a task of its own, and writes the answer's bytes straight to the channel.
///
/// Hummingbird's own connection handling gives every connection an async sequence of request parts
/// and an async writer of response parts, so each part of each request and answer crosses between
/// the event loop and the connection's task. The gateway reads every body whole before routing it,
/// so here a request reaches the router complete, in one task, and its answer is encoded here
/// (``HTTPResponseEncoding``): head and body leave in one `writev`.
///
/// - One request is answered at a time. Requests a client pipelines meanwhile wait, in order, and
///   the connection stops reading while any wait, so a client cannot queue more than one read's
///   worth of them.
/// - A body larger than the limit (`server.max_request_bytes`, read when the request starts) is not
///   buffered: the request goes to the router at once with a body that fails to read
///   (``OverLimitRequestBody``, answered 413) and the rest of the body is read and dropped, so the
///   connection stays usable. When the client asked `Expect: 100-continue`, it may never send that
///   body, so the connection closes after the answer instead.
/// - `Expect: 100-continue` is answered with `100 Continue` unless the declared body is too large.
/// - The connection closes after the answer in flight when the request asks for it
///   (`Connection: close`, or HTTP/1.0 without keep-alive), when the server shuts down
///   (`ChannelShouldQuiesceEvent`), when the request after it is not valid HTTP, and when an answer
///   of unknown length goes to an HTTP/1.0 client (its end is the connection's end). The answer then
///   says `Connection: close`, and nothing the client sends after it is read or served.
/// - A client that closes its sending side is taken as gone (``ClientDisconnectHandler`` cancels
///   its request): requests it pipelined before are dropped, and the connection closes after the
///   answer in flight.
/// - Answers to `HEAD` carry their head only; `HEAD` is routed as `GET`, so every `GET` endpoint
///   answers it.
/// - Bytes that are not HTTP, and an HTTP/1.1 head without exactly one valid `Host`
///   (``HostHeaderRule``), get 400 in OpenAI's error envelope, and the connection closes.
/// - The front door's time limits (``ClientDeadlineStateMachine``: `server.head_timeout`,
///   `body_timeout`, `idle_timeout`) are checked every ``ClientDeadlineStateMachine/Limits/checkInterval``:
///   a half-sent request gets 408 and the connection closes; an idle one just closes.
/// - A request that will be refused for its key whatever its body (`refusesBeforeBody`) is answered
///   from its head: its body is never buffered, and the connection closes after the answer. When
///   the last answer goes while its body is still arriving, the sending side closes first and the
///   rest is read and dropped until it ends (or `body_timeout`), so the client is not reset mid-upload.
/// - On shutdown (`ChannelShouldQuiesceEvent`) a connection closes at once unless an answer is in
///   flight: a request that is still half-sent could hold the drain for as long as its client likes.
/// - No close (shutdown, idle limit, the client's end of input) cuts short an answer already written
///   but still queued for a client that reads slowly: the connection closes once it has gone, or
///   after one more idle period at most.
final class GatewayHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ResponsePart
    typealias OutboundOut = IOData

    /// Answers one request: the request, the client's connection, and when the request's head arrived.
    typealias Responder = @Sendable (Request, any Channel, ContinuousClock.Instant) async -> Response

    /// Whether a request with this head will be refused whatever its body (no valid key on a
    /// gateway that needs one): such a request is answered without reading its body.
    typealias HeadCheck = @Sendable (HTTPRequest) -> Bool

    private enum Reading {
        /// Between requests.
        case idle
        /// A request whose body is arriving; `body` is what came so far.
        case body(HTTPRequestHead, HTTPRequest, receivedAt: ContinuousClock.Instant, body: ByteBuffer?)
        /// The rest of a request that was answered without its body.
        case discarding
    }

    /// The request being answered.
    private struct Answering {
        var number: UInt64
        var version: HTTPVersion
        var keepAlive: Bool
        var isHead: Bool
        /// How the answer's body is delimited, once its head is written.
        var framing = HTTPResponseEncoding.Framing.sized
    }

    private let responder: Responder
    private let maxBodyBytes: @Sendable () -> Int
    private let refusesBeforeBody: HeadCheck
    private let inFlight: InFlightRequest
    private var deadlines: ClientDeadlineStateMachine
    private var deadlineCheck: RepeatedTask?
    private var reading = Reading.idle
    private var bodyLimit = 0
    private var answering: Answering?
    private var answersStarted: UInt64 = 0
    /// The answer in flight (or the next) is the connection's last.
    private var closesAfterAnswer = false
    /// The last answer has ended: the connection is closing, and nothing more is read or served.
    private var closing = false
    /// The last answer went while its request's body was still arriving (an early 401 or 413): the
    /// sending side is closed and the rest of the body is read and dropped until it ends, the client
    /// closes, or `body_timeout` runs out. Closing at once, with the client's bytes unread, would
    /// make the kernel reset the connection, and a client still uploading would see "connection
    /// reset" instead of the answer.
    private var lingering = false
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    private var readPending = false
    private var date = HTTPDateHeader()

    /// Creates the handler of one connection.
    ///
    /// - Parameters:
    ///   - responder: Answers each request.
    ///   - maxBodyBytes: The largest body a request may have; read as each request starts.
    ///   - limits: The time limits on the client (`server.head_timeout`, `body_timeout`, `idle_timeout`).
    ///   - refusesBeforeBody: Whether a request will be refused from its head alone.
    ///   - inFlight: Where the task answering the current request is kept, so that the server's
    ///     drain can wait for it.
    init(
        responder: @escaping Responder,
        maxBodyBytes: @escaping @Sendable () -> Int,
        limits: ClientDeadlineStateMachine.Limits = ClientDeadlineStateMachine.Limits(ServerSettings()),
        refusesBeforeBody: @escaping HeadCheck = { _ in false },
        inFlight: InFlightRequest = InFlightRequest()
    ) {
        self.responder = responder
        self.maxBodyBytes = maxBodyBytes
        self.refusesBeforeBody = refusesBeforeBody
        self.inFlight = inFlight
        self.deadlines = ClientDeadlineStateMachine(limits: limits, openedAt: .now())
    }

    // MARK: Time limits

    func handlerAdded(context: ChannelHandlerContext) {
        deadlines = ClientDeadlineStateMachine(limits: deadlines.limits, openedAt: .now())
        // One check per interval per connection, rather than a timer set and cancelled per request.
        let interval = deadlines.limits.checkInterval
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        deadlineCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            bound.value.handler.checkDeadline(context: bound.value.context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadlineCheck?.cancel()
        deadlineCheck = nil
    }

    /// Bytes came from the client (``ClientBytesObserver``): the first of a head start its limit.
    func clientSentBytes() {
        deadlines.bytesArrived(at: .now())
    }

    private func checkDeadline(context: ChannelHandlerContext) {
        guard !closing || lingering, let expiry = deadlines.expiry(at: .now()) else { return }
        switch expiry {
        case .closeQuietly, .close:
            close(context)
        case .requestTimeout:
            refuse(Self.requestTimeout, context: context)
        }
    }

    /// The answer to a request not received within its limit.
    private static let requestTimeout = GatewayError(
        status: .requestTimeout,
        message: "The request was not received in time; the connection is closed. Send the whole request promptly.",
        type: "invalid_request_error",
        code: "request_timeout"
    )

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else {
            // Lingering: the dropped body's end is the connection's.
            if lingering, case .end = unwrapInboundIn(data) { close(context) }
            return
        }
        let part = unwrapInboundIn(data)
        // Parts wait behind the ones already waiting, and behind an answer unless they are the
        // rest of its own body.
        if !pipelined.isEmpty || (answering != nil && !isDiscarding) {
            pipelined.append(part)
        } else {
            receive(part, context: context)
        }
    }

    private var isDiscarding: Bool {
        if case .discarding = reading { return true }
        return false
    }

    private func receive(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch (part, reading) {
        case (.head(let head), .idle):
            start(head, context: context)
        case (.body(let chunk), .body(let head, let request, let receivedAt, let body)):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > bodyLimit {
                reading = .discarding
                let overLimit = RequestBody(asyncSequence: OverLimitRequestBody(limit: bodyLimit))
                dispatch(head, request, receivedAt: receivedAt, body: overLimit, context: context)
            } else if var body {
                reading = .idle  // releases the buffer's other reference, so the append does not copy it
                var chunk = chunk
                body.writeBuffer(&chunk)
                reading = .body(head, request, receivedAt: receivedAt, body: body)
            } else {
                reading = .body(head, request, receivedAt: receivedAt, body: chunk)
            }
        case (.end, .body(let head, let request, let receivedAt, let body)):
            reading = .idle
            deadlines.bodyEnded(at: .now())
            dispatch(head, request, receivedAt: receivedAt, body: RequestBody(buffer: body ?? ByteBuffer()), context: context)
        case (.end, .discarding):
            reading = .idle
            deadlines.bodyEnded(at: .now())
            guard answering == nil else { return }
            if closesAfterAnswer {
                close(context)
            } else {
                servePipelined(context: context)
            }
        case (.body, .discarding), (.body, .idle), (.end, .idle):
            break
        case (.head, .body), (.head, .discarding):
            // The decoder never starts a request before the previous one ended.
            close(context)
        }
    }

    private func start(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let receivedAt = ContinuousClock.now
        deadlines.headArrived(at: .now())
        var request: HTTPRequest
        do {
            if let violation = HostHeaderRule.violation(in: head) {
                throw GatewayError(status: .badRequest, message: violation, type: "invalid_request_error", code: "invalid_http")
            }
            request = try HTTPRequest(gatewayHead: head)
        } catch {
            reading = .discarding
            closesAfterAnswer = true
            let refusal =
                error as? GatewayError
                ?? GatewayError(
                    status: .badRequest,
                    message:
                        "The request line '\(head.method.rawValue) \(EchoedName.shortened(head.uri))' is not one this gateway serves.",
                    type: "invalid_request_error",
                    code: "invalid_http"
                )
            answer(head, context: context) { _ in refusal.response() }
            return
        }
        // Every GET endpoint answers HEAD; the answer's body is dropped when it is written.
        if request.method == .head { request.method = .get }
        let declaredLength = head.headers.first(name: "content-length")
        if Self.hasBody(head, declaredLength: declaredLength), refusesBeforeBody(request) {
            // Refused from its head (401): the body is dropped as it comes, never buffered, and the
            // connection closes after the answer, so a client without a key cannot hold it open.
            reading = .discarding
            closesAfterAnswer = true
            dispatch(head, request, receivedAt: receivedAt, body: RequestBody(buffer: ByteBuffer()), context: context)
            return
        }
        bodyLimit = maxBodyBytes()
        let expectsContinue =
            head.version.minor >= 1 && head.headers[canonicalForm: "expect"].contains { $0.lowercased() == "100-continue" }
        if let declared = declaredLength.flatMap(Int.init), declared > bodyLimit {
            // Answered at once (413, after the key check), without waiting for a body it will not
            // read. A client waiting for 100 Continue may never send that body: close after.
            reading = .discarding
            if expectsContinue { closesAfterAnswer = true }
            let overLimit = RequestBody(asyncSequence: OverLimitRequestBody(limit: bodyLimit))
            dispatch(head, request, receivedAt: receivedAt, body: overLimit, context: context)
            return
        }
        if expectsContinue {
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n"))), promise: nil)
        }
        reading = .body(head, request, receivedAt: receivedAt, body: nil)
    }

    /// Whether `head` announces a body (a non-zero `Content-Length`, or a transfer coding).
    private static func hasBody(_ head: HTTPRequestHead, declaredLength: String?) -> Bool {
        if let length = declaredLength { return length != "0" }
        return head.headers.contains(name: "transfer-encoding")
    }

    /// Answers the request through the router, in a task of its own.
    private func dispatch(
        _ head: HTTPRequestHead,
        _ request: HTTPRequest,
        receivedAt: ContinuousClock.Instant,
        body: RequestBody,
        context: ChannelHandlerContext
    ) {
        let request = Request(head: request, body: body)
        let responder = self.responder
        answer(head, context: context) { channel in await responder(request, channel, receivedAt) }
    }

    private func answer(
        _ head: HTTPRequestHead,
        context: ChannelHandlerContext,
        respond: @escaping @Sendable (any Channel) async -> Response
    ) {
        answersStarted &+= 1
        let number = answersStarted
        answering = Answering(number: number, version: head.version, keepAlive: head.isKeepAlive, isHead: head.method == .HEAD)
        deadlines.answerStarted()
        let channel = context.channel
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let task = Task {
            let response = await respond(channel)
            let body = response.body
            channel.write(ResponsePart.head(response.head, bodyLength: body.contentLength), promise: nil)
            do {
                try await body.write(ChannelResponseBodyWriter(channel: channel, flushesEachWrite: body.contentLength == nil))
            } catch {
                // The client went away, or the body failed part-way: the connection is closed below.
            }
            let eventLoop = channel.eventLoop
            if eventLoop.inEventLoop {
                handler.value.closeIfUnfinished(number, channel: channel)
            } else {
                eventLoop.execute { handler.value.closeIfUnfinished(number, channel: channel) }
            }
        }
        inFlight.track(task)
    }

    /// Closes the connection when answer `number` stopped before its end: nothing more can follow it.
    private func closeIfUnfinished(_ number: UInt64, channel: any Channel) {
        guard let answering, answering.number == number else { return }
        channel.close(promise: nil)
    }

    private func close(_ context: ChannelHandlerContext) {
        closing = true
        pipelined.removeAll()
        // An answer already written may still be queued for a client that reads slowly: it was
        // promised whole, so the connection closes once everything queued has gone (writes complete
        // in order, so an empty write completes last), or after one more idle period at most, so
        // that a client that reads nothing cannot hold it (a shutdown's drain limit also ends the
        // wait). Done here, when closing, so an answer costs no promise of its own.
        let channel = context.channel
        let giveUp = context.eventLoop.scheduleTask(in: deadlines.limits.idle) { channel.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer()))).whenComplete { _ in
            giveUp.cancel()
            channel.close(promise: nil)
        }
    }

    // MARK: Pipelined requests

    private func servePipelined(context: ChannelHandlerContext) {
        while !closing, let part = pipelined.first, answering == nil || isDiscarding {
            pipelined.removeFirst()
            receive(part, context: context)
        }
        if readPending, pipelined.isEmpty, !closing {
            readPending = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if lingering {
            context.read()
        } else if closing || !pipelined.isEmpty {
            readPending = true
        } else {
            context.read()
        }
    }

    // MARK: Answers

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard var answering else {
            // Nothing is being answered (the connection was closed under the answer): drop it.
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
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
            let bytes = HTTPResponseEncoding.head(
                head,
                version: answering.version,
                date: date.current(),
                connection: connection,
                framing: answering.framing,
                allocator: context.channel.allocator
            )
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
        case .body(let body):
            guard body.readableBytes > 0, !answering.isHead else {
                // An empty chunk would end a chunked body; an answer to HEAD has none.
                promise?.succeed(())
                return
            }
            let bytes = answering.framing == .chunked ? HTTPResponseEncoding.chunk(body, allocator: context.channel.allocator) : body
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
        case .end(let trailers):
            self.answering = nil
            deadlines.answerEnded(at: .now())
            let bytes =
                answering.framing == .chunked
                ? HTTPResponseEncoding.lastChunk(trailers: trailers, allocator: context.channel.allocator) : ByteBuffer()
            guard closesAfterAnswer else {
                context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
                servePipelined(context: context)
                return
            }
            // The last answer: whatever the client sends after it is neither read nor served.
            closing = true
            pipelined.removeAll()
            let written = promise ?? context.eventLoop.makePromise()
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: written)
            let channel = context.channel
            if isDiscarding {
                lingering = true
                if readPending {
                    readPending = false
                    context.read()
                }
                written.futureResult.whenComplete { _ in channel.close(mode: .output, promise: nil) }
            } else {
                written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    // MARK: Connection events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            // Nothing more can arrive, and the client is taken as gone.
            pipelined.removeAll()
            if answering == nil { close(context) } else { closesAfterAnswer = true }
        case is ChannelShouldQuiesceEvent:
            // Only an answer in flight is worth waiting for. A request still arriving (half a head,
            // half a body) could hold the drain for as long as its client likes, and a body being
            // dropped after its answer is owed nothing.
            if answering == nil { close(context) } else { closesAfterAnswer = true }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !closing else { return }
        guard error is HTTPParserError else {
            close(context)
            return
        }
        // The decoder reads nothing more. Requests waiting behind the error are dropped.
        pipelined.removeAll()
        if answering != nil {
            // The answer in flight is finished first, then the connection closes.
            closesAfterAnswer = true
            return
        }
        if isDiscarding {
            // Its request was answered already: a second answer would be one too many.
            close(context)
            return
        }
        // Bytes that are not HTTP: say so, then close.
        let refusal = GatewayError(
            status: .badRequest,
            message: "The request is not valid HTTP/1.1 (\(Self.reason(error))); the connection is closed.",
            type: "invalid_request_error",
            code: "invalid_http"
        )
        refuse(refusal, context: context)
    }

    /// What the decoder found wrong, in its words; its catch-all reads "unknown (http_parser error)".
    private static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        return text.hasPrefix("unknown") ? "it could not be parsed" : text
    }

    /// Answers `error` from the connection itself, with no request to route, then closes.
    private func refuse(_ error: GatewayError, context: ChannelHandlerContext) {
        pipelined.removeAll()
        answersStarted &+= 1
        answering = Answering(number: answersStarted, version: .http1_1, keepAlive: false, isHead: false)
        deadlines.answerStarted()
        closesAfterAnswer = true
        let body = error.jsonBody()
        let head = HTTPResponse(
            status: error.status,
            headerFields: [.contentType: "application/json", .contentLength: String(body.readableBytes)]
        )
        write(context: context, data: NIOAny(ResponsePart.head(head, bodyLength: body.readableBytes)), promise: nil)
        write(context: context, data: NIOAny(ResponsePart.body(body)), promise: nil)
        write(context: context, data: NIOAny(ResponsePart.end(nil)), promise: nil)
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pipelined.removeAll()
        context.fireChannelInactive()
    }
}
