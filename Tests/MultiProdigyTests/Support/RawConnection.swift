import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection to the gateway, for tests that need the exact bytes on the wire:
/// pipelining, HTTP/1.0, `Expect: 100-continue`, a half-closed client.
final class RawConnection: Sendable {
    private struct Received: Sendable {
        var bytes: [UInt8] = []
        var closed = false
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex(Received())

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0.bytes += buffer.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            received.withLock { $0.closed = true }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event { received.withLock { $0.closed = true } }
        }
    }

    private let channel: any Channel
    private let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// Connects to the gateway on `port` of 127.0.0.1.
    static func open(port: Int) async throws -> RawConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawConnection(channel: channel, collector: collector)
    }

    /// Sends `text` as is.
    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Closes the sending side only, as a client that is done sending does.
    func closeOutput() async throws {
        try await channel.close(mode: .output).get()
    }

    /// Everything received so far.
    var text: String { String(decoding: collector.received.withLock { $0.bytes }, as: UTF8.self) }

    /// Whether the gateway closed the connection.
    var isClosedByPeer: Bool { collector.received.withLock { $0.closed } }

    /// Waits up to 5 s until what was received satisfies `condition`; returns it either way.
    @discardableResult
    func receive(until condition: (String) -> Bool) async throws -> String {
        try await waitFor { condition(text) }
        return text
    }

    /// Waits up to 5 s for the gateway to close the connection; whether it did.
    func waitForClose() async throws -> Bool {
        try await waitFor { isClosedByPeer }
        return isClosedByPeer
    }

    /// Closes the connection.
    func close() async {
        try? await channel.close()
    }

    /// The status lines (`HTTP/1.1 200 OK`) in `text`, in order; a body without a line end may
    /// run straight into the next one.
    static func statusLines(in text: String) -> [String] {
        text.matches(of: /(HTTP\/1\.[01] \d{3} [^\r]*)\r\n/).map { String($0.output.1) }
    }
}
