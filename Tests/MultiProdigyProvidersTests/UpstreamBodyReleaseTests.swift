import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import MultiProdigyProviders

/// A streamed body released after its last event (``UpstreamBodyStorage/release()``): the
/// connection is kept when the body ends soon and briefly, and closed when it does not.
@Suite struct UpstreamBodyReleaseTests {
    /// A connection streaming an answer into a storage, its head and first event already read.
    private final class Streaming {
        let channel = EmbeddedChannel()
        let storage: UpstreamBodyStorage
        var endedKeepingAlive: Bool?

        init() throws {
            let handler = UpstreamConnectionHandler()
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            try channel.writeOutbound(
                HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions"))
            )
            storage = UpstreamBodyStorage(handler: NIOLoopBound(handler, eventLoop: channel.eventLoop), eventLoop: channel.eventLoop)
            handler.expectStream(storage: storage, head: { _ in }, ended: { [unowned self] in self.endedKeepingAlive = $0 })
            try read("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            try read(Self.chunk("data: [DONE]\n\n"))
        }

        func read(_ text: String) throws {
            try channel.writeInbound(ByteBuffer(string: text))
        }

        static func chunk(_ text: String) -> String {
            String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n"
        }

        static let end = "0\r\n\r\n"
    }

    @Test func aBodyThatEndsSoonAfterItsReleaseKeepsItsConnection() throws {
        let connection = try Streaming()
        connection.storage.release()
        try connection.read(Streaming.chunk(": bye\n\n") + Streaming.end)
        #expect(connection.endedKeepingAlive == true, "the connection goes back to the pool")
        #expect(connection.channel.isActive)
        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(connection.channel.isActive, "the grace's timer leaves an ended body alone")
    }

    @Test func aBodyThatDoesNotEndWithinTheGraceIsClosed() throws {
        let connection = try Streaming()
        connection.storage.release()
        connection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(400))
        #expect(connection.channel.isActive)
        connection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!connection.channel.isActive, "closed at the end of the half-second grace")
        #expect(connection.endedKeepingAlive == nil)
    }

    @Test func moreThan64KiBAfterTheReleaseCloses() throws {
        let connection = try Streaming()
        connection.storage.release()
        try connection.read(Streaming.chunk(String(repeating: "x", count: 40_000)))
        #expect(connection.channel.isActive)
        try connection.read(Streaming.chunk(String(repeating: "x", count: 40_000)))
        #expect(!connection.channel.isActive)
        #expect(connection.endedKeepingAlive == nil)
    }

    @Test func bytesReadButNotTakenCountTowardTheLimit() throws {
        let connection = try Streaming()
        // Read before the release, never taken by the reader: still more than the limit.
        try connection.read(Streaming.chunk(String(repeating: "x", count: 70_000)))
        connection.storage.release()
        #expect(!connection.channel.isActive)
    }

    @Test func aBodyThatHadEndedIsLeftAlone() throws {
        let connection = try Streaming()
        try connection.read(Streaming.end)
        #expect(connection.endedKeepingAlive == true)
        connection.storage.release()
        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(connection.channel.isActive)
    }
}
