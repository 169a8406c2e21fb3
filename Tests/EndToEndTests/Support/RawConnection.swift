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

    /// Waits up to 10 s until what was received satisfies `condition`; returns it either way.
    @discardableResult
    func receive(until condition: (String) -> Bool) async throws -> String {
        try await waitFor { condition(text) }
        return text
    }

    /// Waits until what was received satisfies `condition` for as long as bytes keep coming: gives
    /// up only when none has come for `stallTimeout` (or after `limit` in all); returns what was
    /// received either way. For an exchange of many answers, whose whole time a loaded machine can
    /// stretch past any fixed bound while every answer still comes.
    @discardableResult
    func receive(until condition: (String) -> Bool, stallTimeout: Duration, limit: Duration = .seconds(300)) async throws -> String {
        let poll = Duration.milliseconds(20)
        let start = ContinuousClock.now
        var lastProgress = start
        var received = -1
        for _ in 0..<Int(limit / poll) {
            let count = collector.received.withLock { $0.bytes.count }
            let now = ContinuousClock.now
            if count != received {
                // `condition` is asked again only when bytes came.
                received = count
                lastProgress = now
                if condition(text) { break }
            } else if now - lastProgress >= stallTimeout || now - start >= limit {
                break
            }
            try await Task.sleep(for: poll)
        }
        return text
    }

    /// Waits up to 10 s for the gateway to close the connection; whether it did.
    func waitForClose() async throws -> Bool {
        try await waitFor { isClosedByPeer }
        return isClosedByPeer
    }

    /// Closes the connection.
    func close() async {
        try? await channel.close()
    }
}
