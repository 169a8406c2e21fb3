import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Serves HTTP/1.x on one client connection: reads each request whole, answers it through the
/// gateway's router in a task of its own, and writes the answer straight to the channel.
///
/// Hummingbird's own connection handling gives every connection an async sequence of request parts
/// and an async writer of response parts, so each part of each request and answer crosses between
/// the event loop and the connection's task. The gateway reads every body whole before routing it,
/// so here a request reaches the router complete, in one task, and its answer is written from that
/// task with no hand-off: head, body and end leave in one `writev`.
///
/// - One request is answered at a time. Requests a client pipelines meanwhile wait, in order; past
///   ``maxPipelinedBytes`` the connection stops reading until they are served.
/// - A body larger than the limit (`server.max_request_bytes`, read when the request starts) is not
///   buffered: the request goes to the router at once with a body that fails to read
///   (``OverLimitRequestBody``, answered 413) and the rest of the body is read and dropped, so the
///   connection stays usable.
/// - `Expect: 100-continue` is answered with `100 Continue` unless the declared body is too large.
/// - The connection closes after the answer in flight when the request asks for it
///   (`Connection: close`, or HTTP/1.0 without keep-alive), when the client closes its side, when
///   the server shuts down (`ChannelShouldQuiesceEvent`), and when an answer of unknown length goes
///   to an HTTP/1.0 client (its end is the connection's end). The answer then says
///   `Connection: close`.
/// - A request that is not valid HTTP gets 400 and the connection closes.
final class GatewayHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ResponsePart
    typealias OutboundOut = IOData

    /// Answers one request; `any Channel` is the client's connection.
    typealias Responder = @Sendable (Request, any Channel) async -> Response

    /// How many body bytes of pipelined requests wait before the connection stops reading.
    static let maxPipelinedBytes = 1 << 20

    private enum Reading {
        /// Between requests.
        case idle
        /// A request whose body is arriving; `body` is what came so far.
        case body(HTTPRequestHead, HTTPRequest, body: ByteBuffer?)
        /// The rest of a request that was answered without its body.
        case discarding
    }

    /// The request being answered.
    private struct Answering {
        var number: UInt64
        var version: HTTPVersion
        var keepAlive: Bool
        /// How the answer's body is delimited, once its head is written.
        var framing = HTTPResponseEncoding.Framing.sized
    }

    private let responder: Responder
    private let maxBodyBytes: @Sendable () -> Int
    private var reading = Reading.idle
    private var bodyLimit = 0
    private var answering: Answering?
    private var answersStarted: UInt64 = 0
    private var closesAfterAnswer = false
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    private var pipelinedBytes = 0
    private var readPending = false
    private var date = HTTPDateHeader()

    /// Creates the handler of one connection.
    ///
    /// - Parameters:
    ///   - responder: Answers each request.
    ///   - maxBodyBytes: The largest body a request may have; read as each request starts.
    init(responder: @escaping Responder, maxBodyBytes: @escaping @Sendable () -> Int) {
        self.responder = responder
        self.maxBodyBytes = maxBodyBytes
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if answering != nil, !isDiscarding {
            enqueue(part)
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
        case (.body(let chunk), .body(let head, let request, let body)):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > bodyLimit {
                reading = .discarding
                dispatch(head, request, body: RequestBody(asyncSequence: OverLimitRequestBody(limit: bodyLimit)), context: context)
            } else if var body {
                reading = .idle  // releases the buffer's other reference, so the append does not copy it
                var chunk = chunk
                body.writeBuffer(&chunk)
                reading = .body(head, request, body: body)
            } else {
                reading = .body(head, request, body: chunk)
            }
        case (.end, .body(let head, let request, let body)):
            reading = .idle
            dispatch(head, request, body: RequestBody(buffer: body ?? ByteBuffer()), context: context)
        case (.end, .discarding):
            reading = .idle
            if answering == nil { servePipelined(context: context) }
        case (.body, .discarding), (.body, .idle), (.end, .idle):
            break
        case (.head, .body), (.head, .discarding):
            // The decoder never starts a request before the previous one ended.
            context.close(promise: nil)
        }
    }

    private func start(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let request: HTTPRequest
        do {
            request = try HTTPRequest(gatewayHead: head)
        } catch {
            reading = .discarding
            closesAfterAnswer = true
            let refusal = GatewayError(
                status: .badRequest,
                message: "The request line '\(head.method.rawValue) \(head.uri)' is not one this gateway serves.",
                type: "invalid_request_error"
            )
            answer(head, context: context) { _ in refusal.response() }
            return
        }
        bodyLimit = maxBodyBytes()
        if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > bodyLimit {
            // Answered at once (413, after the key check), without waiting for a body it will not read.
            reading = .discarding
            dispatch(head, request, body: RequestBody(asyncSequence: OverLimitRequestBody(limit: bodyLimit)), context: context)
            return
        }
        if head.version.minor >= 1, head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n"))), promise: nil)
        }
        reading = .body(head, request, body: nil)
    }

    /// Answers the request through the router, in a task of its own.
    private func dispatch(_ head: HTTPRequestHead, _ request: HTTPRequest, body: RequestBody, context: ChannelHandlerContext) {
        let request = Request(head: request, body: body)
        let responder = self.responder
        answer(head, context: context) { channel in await responder(request, channel) }
    }

    private func answer(
        _ head: HTTPRequestHead,
        context: ChannelHandlerContext,
        respond: @escaping @Sendable (any Channel) async -> Response
    ) {
        answersStarted &+= 1
        let number = answersStarted
        answering = Answering(number: number, version: head.version, keepAlive: head.isKeepAlive)
        let channel = context.channel
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        Task {
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
    }

    /// Closes the connection when answer `number` stopped before its end: nothing more can follow it.
    private func closeIfUnfinished(_ number: UInt64, channel: any Channel) {
        guard let answering, answering.number == number else { return }
        channel.close(promise: nil)
    }

    // MARK: Pipelined requests

    private func enqueue(_ part: HTTPServerRequestPart) {
        if case .body(let chunk) = part { pipelinedBytes += chunk.readableBytes }
        pipelined.append(part)
    }

    private func servePipelined(context: ChannelHandlerContext) {
        while answering == nil, let part = pipelined.popFirst() {
            if case .body(let chunk) = part { pipelinedBytes -= chunk.readableBytes }
            receive(part, context: context)
        }
        if readPending, pipelinedBytes <= Self.maxPipelinedBytes {
            readPending = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if pipelinedBytes > Self.maxPipelinedBytes {
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
            answering.framing = HTTPResponseEncoding.framing(of: head, bodyLength: bodyLength, version: answering.version)
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
            guard body.readableBytes > 0 else {
                // An empty chunk would end a chunked body.
                promise?.succeed(())
                return
            }
            let bytes = answering.framing == .chunked ? HTTPResponseEncoding.chunk(body, allocator: context.channel.allocator) : body
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
        case .end(let trailers):
            self.answering = nil
            let bytes =
                answering.framing == .chunked
                ? HTTPResponseEncoding.lastChunk(trailers: trailers, allocator: context.channel.allocator) : ByteBuffer()
            guard closesAfterAnswer else {
                context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
                servePipelined(context: context)
                return
            }
            let written = promise ?? context.eventLoop.makePromise()
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: written)
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    // MARK: Connection events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            // Nothing more can arrive; requests that were waiting have lost their client.
            pipelined.removeAll()
            pipelinedBytes = 0
            if answering == nil { context.close(promise: nil) } else { closesAfterAnswer = true }
        case is ChannelShouldQuiesceEvent:
            if answering == nil, case .idle = reading { context.close(promise: nil) } else { closesAfterAnswer = true }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError, answering == nil else {
            context.close(promise: nil)
            return
        }
        // Bytes that are not HTTP: say so, then close.
        answersStarted &+= 1
        answering = Answering(number: answersStarted, version: .http1_1, keepAlive: false)
        closesAfterAnswer = true
        let head = HTTPResponse(status: .badRequest, headerFields: [.contentLength: "0"])
        write(context: context, data: NIOAny(ResponsePart.head(head, bodyLength: 0)), promise: nil)
        write(context: context, data: NIOAny(ResponsePart.end(nil)), promise: nil)
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pipelined.removeAll()
        pipelinedBytes = 0
        context.fireChannelInactive()
    }
}
