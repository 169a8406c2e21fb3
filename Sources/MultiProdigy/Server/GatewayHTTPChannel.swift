import Hummingbird
import HummingbirdCore
import Logging
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

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Connection> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            // Answers are encoded by GatewayHTTPHandler itself (see HTTPResponseEncoding).
            try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            let inFlight = InFlightRequest()
            try pipeline.addHandler(ClientDisconnectHandler())
            try pipeline.addHandler(GatewayHTTPHandler(responder: responder, maxBodyBytes: maxBodyBytes, inFlight: inFlight))
            return Connection(channel: channel, inFlight: inFlight)
        }
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
