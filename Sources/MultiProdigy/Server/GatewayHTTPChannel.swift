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
            try pipeline.addHandler(ClientDisconnectHandler())
            try pipeline.addHandler(GatewayHTTPHandler(responder: responder, maxBodyBytes: maxBodyBytes))
            return Connection(channel: channel)
        }
    }

    func handle(value connection: Connection, logger: Logger) async {
        // The handlers serve the connection; this task only lasts as long as it does, which is
        // how the server knows when it has drained. Cancelled (a shutdown that ran out of time),
        // it closes the connection.
        await withTaskCancellationHandler {
            try? await connection.channel.closeFuture.get()
        } onCancel: {
            connection.channel.close(promise: nil)
        }
    }
}
