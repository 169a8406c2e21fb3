import NIOCore
import NIOHTTP1
import Synchronization

/// An OpenAI-compatible upstream that answers every request with a `chat.completion` on a kept-alive
/// connection, and counts the connections it accepted and those still open: for tests of how long
/// the gateway keeps idle upstream connections.
final class ConnectionCountingUpstream: Sendable {
    /// What the connections' handlers count, shared with them.
    private final class Counts: Sendable {
        let state = Mutex<(accepted: Int, open: Int, requests: Int)>((0, 0, 0))
    }

    private let counts = Counts()

    /// Connections accepted so far.
    var accepted: Int { counts.state.withLock { $0.accepted } }
    /// Connections not yet closed.
    var open: Int { counts.state.withLock { $0.open } }
    /// Requests answered.
    var requests: Int { counts.state.withLock { $0.requests } }

    /// Serves until the task is cancelled, reporting the bound port first.
    func run(onPort: @escaping @Sendable (Int) async -> Void) async throws {
        try await LoopbackHTTPServer.run(onPort: onPort) { [counts] in Answerer(counts: counts) }
    }

    private final class Answerer: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let counts: Counts

        init(counts: Counts) {
            self.counts = counts
        }

        func channelActive(context: ChannelHandlerContext) {
            counts.state.withLock {
                $0.accepted += 1
                $0.open += 1
            }
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            counts.state.withLock { $0.open -= 1 }
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            counts.state.withLock { $0.requests += 1 }
            let body = ByteBuffer(string: FakeUpstream.completion())
            var headers = HTTPHeaders([("content-type", "application/json")])
            headers.add(name: "content-length", value: String(body.readableBytes))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
