import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

@testable import MultiProdigyConfig
@testable import MultiProdigyServer

/// A server made of the gateway's connection handling alone (decoder, ``ClientDisconnectHandler``,
/// ``GatewayHTTPHandler``) with a scripted responder, for tests that need to hold an answer open.
///
/// It answers `ok:<path>`; a path starting with `/slow` waits for ``release(_:)`` first, and
/// `/big…` answers `bigBody` bytes. Its connections' socket buffers are 64 KiB, so that tests can
/// fill them with a few MB.
final class ScriptedHTTPServer: Sendable {
    private let channel: any Channel
    private let state: State

    private final class State: Sendable {
        let dispatched = Mutex<[String]>([])
        let gates = Mutex<[String: CheckedContinuation<Void, Never>]>([:])
        let children = Mutex<[any Channel]>([])
    }

    /// Starts it on a free port of 127.0.0.1, its connections held to `limits`.
    init(
        maxBody: Int,
        bigBody: Int = 0,
        limits: ClientDeadlineStateMachine.Limits = ClientDeadlineStateMachine.Limits(ServerSettings())
    ) async throws {
        let state = State()
        let responder: GatewayHTTPHandler.Responder = { request, _, _ in
            let path = request.uri.path
            state.dispatched.withLock { $0.append(path) }
            if path.hasPrefix("/slow") {
                await withCheckedContinuation { gate in state.gates.withLock { $0[path] = gate } }
            }
            if path.hasPrefix("/big") || path.hasPrefix("/slowbig") {
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: UInt8(ascii: "b"), count: bigBody)))
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok:\(path)")))
        }
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 64 << 10)
            .childChannelOption(ChannelOptions.socketOption(.so_sndbuf), value: 64 << 10)
            .childChannelInitializer { channel in
                state.children.withLock { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    let handler = GatewayHTTPHandler(responder: responder, maxBodyBytes: { maxBody }, limits: limits)
                    try GatewayHTTPChannel.addHandlers(serving: handler, to: channel.pipeline.syncOperations)
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        self.state = state
    }

    /// The port it listens on.
    var port: Int { channel.localAddress?.port ?? 0 }

    /// The paths of the requests that reached the responder, in order.
    var dispatched: [String] { state.dispatched.withLock { $0 } }

    /// Whether a request for `path` is waiting for ``release(_:)``.
    func isWaiting(_ path: String) -> Bool { state.gates.withLock { $0[path] != nil } }

    /// Lets the waiting request for `path` be answered, once it waits (as long as ``waitFor`` waits).
    func release(_ path: String) async throws {
        try await waitFor { isWaiting(path) }
        state.gates.withLock { $0.removeValue(forKey: path) }?.resume()
    }

    /// How many connections it has accepted.
    var connectionCount: Int { state.children.withLock { $0.count } }

    /// Sends the server's shutdown signal to its latest connection, as Hummingbird's server does.
    func quiesceLatestConnection() {
        state.children.withLock { $0.last }?.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    }

    /// Stops listening.
    func close() async {
        try? await channel.close()
    }
}
