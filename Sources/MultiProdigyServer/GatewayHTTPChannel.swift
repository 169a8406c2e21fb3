import Hummingbird
import HummingbirdCore
import Logging
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyCore
import NIOCore
import NIOHTTP1

/// How Hummingbird's server sets up and serves each client connection of the gateway: HTTP/1.1
/// through ``GatewayHTTPHandler``, which answers whole requests through the router.
///
/// Hummingbird's `Server` still accepts the connections, and drains them on shutdown by sending each
/// a `ChannelShouldQuiesceEvent` and waiting for it to close.
struct GatewayHTTPChannel: ServerChildChannel {
    /// A connection being served.
    struct Connection: ServerChildChannelValue {
        /// The client's channel.
        let channel: any Channel
        /// The task answering its current request.
        let inFlight: InFlightRequest
    }

    /// Answers each request.
    let responder: GatewayHTTPHandler.Responder
    /// The largest request body accepted (`server.max_request_bytes`), read as each request starts.
    let maxBodyBytes: @Sendable () -> Int
    /// The time limits on clients (`server.head_timeout`, `body_timeout`, `idle_timeout`), read as
    /// each connection opens.
    let limits: @Sendable () -> ClientDeadlineStateMachine.Limits
    /// Whether a request will be refused from its head alone, before its body is read.
    let refusesBeforeBody: GatewayHTTPHandler.HeadCheck
    /// Counts connections against `server.max_connections`.
    let connectionLimiter: ConnectionLimiter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Connection> {
        channel.eventLoop.makeCompletedFuture {
            let inFlight = InFlightRequest()
            guard connectionLimiter.admit() else {
                Self.refuseOverLimit(channel)
                return Connection(channel: channel, inFlight: inFlight)
            }
            let limiter = connectionLimiter
            channel.closeFuture.whenComplete { _ in limiter.release() }
            let pipeline = channel.pipeline.syncOperations
            let handler = GatewayHTTPHandler(
                responder: responder,
                maxBodyBytes: maxBodyBytes,
                limits: limits(),
                refusesBeforeBody: refusesBeforeBody,
                inFlight: inFlight
            )
            try Self.addHandlers(serving: handler, to: pipeline)
            return Connection(channel: channel, inFlight: inFlight)
        }
    }

    /// Adds the handlers that serve HTTP/1.x through `handler` to a new connection's pipeline.
    static func addHandlers(serving handler: GatewayHTTPHandler, to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(ClientBytesObserver(for: handler))
        // Answers are encoded by GatewayHTTPHandler itself (see HTTPResponseEncoding).
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        try pipeline.addHandler(ClientDisconnectHandler())
        try pipeline.addHandler(handler)
    }

    /// Answers a connection over `server.max_connections` with 503 and closes it, without reading
    /// anything it sent.
    private static func refuseOverLimit(_ channel: any Channel) {
        let body = GatewayError(
            status: .serviceUnavailable,
            message: "The gateway is serving as many connections as it allows (server.max_connections); try again shortly.",
            type: "server_error",
            code: "too_many_connections"
        )
        .jsonBody()
        let head = HTTPResponse(
            status: .serviceUnavailable,
            headerFields: [.contentType: "application/json", .contentLength: String(body.readableBytes), .retryAfter: "1"]
        )
        var date = HTTPDateHeader()
        var bytes = HTTPResponseEncoding.head(
            head,
            version: .http1_1,
            date: date.current(),
            connection: "close",
            framing: .sized,
            allocator: channel.allocator
        )
        bytes.writeImmutableBuffer(body)
        channel.writeAndFlush(bytes).whenComplete { _ in channel.close(promise: nil) }
    }

    func handle(value connection: Connection, logger: Logger) async {
        // The handlers serve the connection; this task lasts as long as it does and then as long
        // as the handler of its last request, which is how the server knows when it has drained.
        // Cancelled (a shutdown that ran out of time), it closes the connection and cancels the
        // request.
        await withTaskCancellationHandler {
            try? await connection.channel.closeFuture.get()
            await connection.inFlight.wait()
        } onCancel: {
            connection.channel.close(promise: nil)
            connection.inFlight.cancel()
        }
    }
}
