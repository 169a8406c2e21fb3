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

    /// Connects to the gateway on `port` of 127.0.0.1; with `reading` false, nothing is read until
    /// ``startReading()``, so the gateway's answers back up in the socket. `bufferBytes` sets the
    /// socket's send and receive buffers (otherwise the kernel's, which grow to tens of MB).
    static func open(port: Int, reading: Bool = true, bufferBytes: Int? = nil) async throws -> RawConnection {
        let collector = Collector()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelOption(ChannelOptions.autoRead, value: reading)
        if let bufferBytes {
            bootstrap = bootstrap.channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: SocketOptionValue(bufferBytes))
                .channelOption(ChannelOptions.socketOption(.so_sndbuf), value: SocketOptionValue(bufferBytes))
        }
        let channel =
            try await bootstrap
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

    /// Starts sending `text`; the future completes once the kernel took all of it.
    func startSending(_ text: String) -> EventLoopFuture<Void> {
        channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Starts reading, after ``open(port:reading:)`` with `reading` false.
    func startReading() async throws {
        try await channel.setOption(ChannelOptions.autoRead, value: true).get()
        channel.read()
    }

    /// Closes the sending side only, as a client that is done sending does.
    func closeOutput() async throws {
        try await channel.close(mode: .output).get()
    }

    /// Everything received so far.
    var text: String { String(decoding: collector.received.withLock { $0.bytes }, as: UTF8.self) }

    /// Whether the gateway closed the connection.
    var isClosedByPeer: Bool { collector.received.withLock { $0.closed } }

    /// How many bytes have come so far: the progress of an answer.
    var receivedByteCount: Int { collector.received.withLock { $0.bytes.count } }

    /// Waits until what was received satisfies `condition` for as long as bytes keep coming: gives
    /// up only when none has come for `stallTimeout` (or after `limit` in all); returns what was
    /// received either way. An exchange of many answers may take a loaded machine past any fixed
    /// total while every answer still comes.
    @discardableResult
    func receive(
        until condition: (String) -> Bool,
        stallTimeout: Duration = .seconds(30),
        limit: Duration = .seconds(300)
    ) async throws -> String {
        var checked = -1
        try await waitFor(stallTimeout: stallTimeout, limit: limit, progress: { receivedByteCount }) {
            // `condition` is asked again only when bytes came.
            let count = receivedByteCount
            guard count != checked else { return false }
            checked = count
            return condition(text)
        }
        return text
    }

    /// Waits for the gateway to close the connection, for as long as bytes keep coming (30 s
    /// after the last); whether it did.
    func waitForClose() async throws -> Bool {
        try await waitFor(progress: { receivedByteCount }) { isClosedByPeer }
        return isClosedByPeer
    }

    /// Closes the connection.
    func close() async {
        try? await channel.close()
    }
}
