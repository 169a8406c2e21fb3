import NIOCore
import NIOHTTP1
import NIOPosix

/// A raw HTTP/1.1 server on a loopback port for fake upstreams that need control below
/// Hummingbird: NIO's server pipeline, then a handler of the fake's own for each connection.
enum LoopbackHTTPServer {
    /// Serves until the task is cancelled, reporting the bound port first; `handler` makes each
    /// connection's last handler, on its event loop.
    static func run(
        onPort: @escaping @Sendable (Int) async -> Void,
        handler: @escaping @Sendable () -> any ChannelInboundHandler
    ) async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(handler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        await onPort(channel.localAddress?.port ?? 0)
        try? await Task.sleep(for: .seconds(3600))
        try? await channel.close()
    }
}
