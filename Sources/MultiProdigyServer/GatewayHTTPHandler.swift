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
///
/// What the connection is doing, and what each event makes of it, is ``HTTPConnectionStateMachine``'s
/// to say; this handler turns its actions into writes, reads, closes and the tasks that answer.
final class GatewayHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ResponsePart
    typealias OutboundOut = IOData

    /// Answers one request: the request, the client's connection, and when the request's head arrived.
    typealias Responder = @Sendable (Request, any Channel, ContinuousClock.Instant) async -> Response

    /// Whether a request with this head will be refused whatever its body (no valid key on a
    /// gateway that needs one): such a request is answered without reading its body.
    typealias HeadCheck = @Sendable (HTTPRequest) -> Bool

    private let responder: Responder
    private let maxBodyBytes: @Sendable () -> Int
    private let refusesBeforeBody: HeadCheck
    private let inFlight: InFlightRequest
    /// Everything the connection is doing; this handler carries out what it says.
    private var state: HTTPConnectionStateMachine
    private var deadlineCheck: RepeatedTask?
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
        self.state = HTTPConnectionStateMachine(limits: limits, openedAt: .now())
    }

    /// Carries out `action`.
    private func run(_ action: HTTPConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .wait:
            break
        case .verifyHead(let head):
            run(state.headVerified(verdict(on: head), at: .now()), context: context)
        case .sendContinue:
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n"))), promise: nil)
        case .answer(let number, let source):
            answer(number, from: source, context: context)
        case .refuse(let refusal):
            refuse(refusal, context: context)
        case .servePipelined:
            while let next = state.servePipelined(at: .now()) { run(next, context: context) }
        case .read:
            context.read()
        case .close:
            close(context)
        case .closeNow:
            context.channel.close(promise: nil)
        }
    }

    // MARK: Time limits

    func handlerAdded(context: ChannelHandlerContext) {
        state = HTTPConnectionStateMachine(limits: state.limits, openedAt: .now())
        // One check per interval per connection, rather than a timer set and cancelled per request.
        let interval = state.limits.checkInterval
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        deadlineCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = bound.value
            handler.run(handler.state.deadlineCheck(at: .now()), context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadlineCheck?.cancel()
        deadlineCheck = nil
    }

    /// Bytes came from the client (``ClientBytesObserver``): the first of a head start its limit.
    func clientSentBytes() {
        state.bytesArrived(at: .now())
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        run(state.channelRead(unwrapInboundIn(data), at: .now()), context: context)
    }

    /// What the state machine needs to know about `head`: whether it is a request this gateway
    /// serves, and whether its body is to be read.
    private func verdict(on head: HTTPRequestHead) -> HTTPConnectionStateMachine.HeadVerdict {
        let receivedAt = ContinuousClock.now
        var request: HTTPRequest
        do {
            if let violation = HostHeaderRule.violation(in: head) {
                throw GatewayError(status: .badRequest, message: violation, type: "invalid_request_error", code: "invalid_http")
            }
            request = try HTTPRequest(gatewayHead: head)
        } catch {
            return .invalid(
                error as? GatewayError
                    ?? GatewayError(
                        status: .badRequest,
                        message:
                            "The request line '\(head.method.rawValue) \(EchoedName.shortened(head.uri))' is not one this gateway serves.",
                        type: "invalid_request_error",
                        code: "invalid_http"
                    )
            )
        }
        // Every GET endpoint answers HEAD; the answer's body is dropped when it is written.
        if request.method == .head { request.method = .get }
        let parsed = HTTPConnectionStateMachine.ParsedHead(request: request, receivedAt: receivedAt)
        let declaredLength = head.headers.first(name: "content-length")
        if Self.hasBody(head, declaredLength: declaredLength), refusesBeforeBody(request) {
            return .refusedBeforeBody(parsed)
        }
        let expectsContinue =
            head.version.minor >= 1 && head.headers[canonicalForm: "expect"].contains { $0.lowercased() == "100-continue" }
        return .accepted(
            parsed,
            bodyLimit: maxBodyBytes(),
            declaredLength: declaredLength.flatMap { Int($0) },
            expectsContinue: expectsContinue
        )
    }

    /// Whether `head` announces a body (a non-zero `Content-Length`, or a transfer coding).
    private static func hasBody(_ head: HTTPRequestHead, declaredLength: String?) -> Bool {
        if let length = declaredLength { return length != "0" }
        return head.headers.contains(name: "transfer-encoding")
    }

    /// Starts answer `number` in a task of its own: through the router, or with a refusal.
    private func answer(_ number: UInt64, from source: HTTPConnectionStateMachine.AnswerSource, context: ChannelHandlerContext) {
        let respond: @Sendable (any Channel) async -> Response
        switch source {
        case .refusal(let error):
            respond = { _ in error.response() }
        case .route(let parsed, let body):
            let requestBody =
                switch body {
                case .whole(let buffer): RequestBody(buffer: buffer)
                case .overLimit(let limit): RequestBody(asyncSequence: OverLimitRequestBody(limit: limit))
                }
            let request = Request(head: parsed.request, body: requestBody)
            let responder = self.responder
            let receivedAt = parsed.receivedAt
            respond = { channel in await responder(request, channel, receivedAt) }
        }
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
                handler.value.answerTaskEnded(number, channel: channel)
            } else {
                eventLoop.execute { handler.value.answerTaskEnded(number, channel: channel) }
            }
        }
        inFlight.track(task)
    }

    /// Closes the connection when answer `number` stopped before its end: nothing more can follow it.
    private func answerTaskEnded(_ number: UInt64, channel: any Channel) {
        if case .closeNow = state.answerTaskEnded(number) { channel.close(promise: nil) }
    }

    private func close(_ context: ChannelHandlerContext) {
        // An answer already written may still be queued for a client that reads slowly: it was
        // promised whole, so the connection closes once everything queued has gone (writes complete
        // in order, so an empty write completes last), or after one more idle period at most, so
        // that a client that reads nothing cannot hold it (a shutdown's drain limit also ends the
        // wait). Done here, when closing, so an answer costs no promise of its own.
        let channel = context.channel
        let giveUp = context.eventLoop.scheduleTask(in: state.limits.idle) { channel.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer()))).whenComplete { _ in
            giveUp.cancel()
            channel.close(promise: nil)
        }
    }

    func read(context: ChannelHandlerContext) {
        run(state.read(), context: context)
    }

    // MARK: Answers

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let allocator = context.channel.allocator
        switch state.write(unwrapOutboundIn(data), at: .now()) {
        case .fail:
            promise?.fail(ChannelError.ioOnClosedChannel)
        case .skip:
            promise?.succeed(())
        case .writeHead(let head, let version, let connection, let framing):
            let bytes = HTTPResponseEncoding.head(
                head,
                version: version,
                date: date.current(),
                connection: connection,
                framing: framing,
                allocator: allocator
            )
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
        case .writeBody(let body, let chunked):
            let bytes = chunked ? HTTPResponseEncoding.chunk(body, allocator: allocator) : body
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
        case .writeEnd(let trailers, let chunked, let then):
            let bytes = chunked ? HTTPResponseEncoding.lastChunk(trailers: trailers, allocator: allocator) : ByteBuffer()
            guard then != .servePipelined else {
                context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
                run(.servePipelined, context: context)
                return
            }
            let written = promise ?? context.eventLoop.makePromise()
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: written)
            let channel = context.channel
            if case .lingerWhenWritten(let readNow) = then {
                if readNow { context.read() }
                written.futureResult.whenComplete { _ in channel.close(mode: .output, promise: nil) }
            } else {
                written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    /// The answer to a request not received within its limit.
    private static let requestTimeout = GatewayError(
        status: .requestTimeout,
        message: "The request was not received in time; the connection is closed. Send the whole request promptly.",
        type: "invalid_request_error",
        code: "request_timeout"
    )

    /// Writes the connection's own answer, which the state machine has started, then closes.
    private func refuse(_ refusal: HTTPConnectionStateMachine.Refusal, context: ChannelHandlerContext) {
        let error =
            switch refusal {
            case .requestTimeout: Self.requestTimeout
            case .notHTTP(let reason):
                GatewayError(
                    status: .badRequest,
                    message: "The request is not valid HTTP/1.1 (\(reason)); the connection is closed.",
                    type: "invalid_request_error",
                    code: "invalid_http"
                )
            }
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

    // MARK: Connection events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            run(state.inputClosed(), context: context)
        case is ChannelShouldQuiesceEvent:
            run(state.shouldQuiesce(), context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let caught: HTTPConnectionStateMachine.ConnectionError =
            error is HTTPParserError ? .notHTTP(reason: Self.reason(error)) : .other
        run(state.errorCaught(caught), context: context)
    }

    /// What the decoder found wrong, in its words; its catch-all reads "unknown (http_parser error)".
    private static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        return text.hasPrefix("unknown") ? "it could not be parsed" : text
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.channelInactive()
        context.fireChannelInactive()
    }
}
