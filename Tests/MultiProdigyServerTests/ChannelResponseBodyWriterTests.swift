import Dispatch
import Hummingbird
import NIOCore
import NIOEmbedded
import Testing

@testable import MultiProdigyServer

/// A streamed body's writes share flushes, and none is left unflushed: a writer off the client
/// channel's loop, whose writes are queued to it, has every write flushed once it pauses.
@Suite struct ChannelResponseBodyWriterTests {
    @Test func offLoopWritesAreAllFlushedOnceTheWriterPauses() async throws {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).get()
        // Hold the loop so the writer's two writes and its one flush are queued, as they are when
        // the loop is busy with other connections.
        let gate = DispatchSemaphore(value: 0)
        channel.eventLoop.execute { gate.wait() }
        var writer = ChannelResponseBodyWriter(channel: channel, flushesEachWrite: true)
        try await writer.write(ByteBuffer(string: "data: one\n\n"))
        try await writer.write(ByteBuffer(string: "data: two\n\n"))
        // The writer now waits for the upstream (a stall): nothing else is written.
        gate.signal()
        await channel.testingEventLoop.run()
        var flushed: [String] = []
        while let part = try await channel.readOutbound(as: ResponsePart.self) {
            if case .body(let bytes) = part { flushed.append(String(buffer: bytes)) }
        }
        #expect(flushed == ["data: one\n\n", "data: two\n\n"])
        _ = try? await channel.finish()
    }
}
