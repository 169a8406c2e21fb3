import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import MultiProdigyProviders

/// The upstream connection handler collecting: whole answers, and whether the connection may be
/// reused, as the parser read it.
@Suite struct UpstreamConnectionHandlerTests {
    /// A collector behind an HTTP response decoder, waiting for the answer to a request just sent.
    private func expectingAnswer() throws -> (channel: EmbeddedChannel, answer: EventLoopFuture<UpstreamCollectedResponse>) {
        let channel = EmbeddedChannel()
        let collector = UpstreamConnectionHandler()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
        try channel.pipeline.syncOperations.addHandler(collector)
        // The decoder pairs each response with a request it saw go out.
        try channel.writeOutbound(
            HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions"))
        )
        let promise = channel.eventLoop.makePromise(of: UpstreamCollectedResponse.self)
        collector.expectResponse(maxBodyBytes: 1 << 20) { promise.completeWith($0) }
        return (channel, promise.futureResult)
    }

    private func collect(_ raw: String) async throws -> UpstreamCollectedResponse {
        let (channel, answer) = try expectingAnswer()
        try channel.writeInbound(ByteBuffer(string: raw))
        // Fulfilled by now: the whole answer was in the bytes just read.
        let response = try await answer.get()
        _ = try? channel.finish()
        return response
    }

    @Test func http11AnswerKeepsTheConnection() async throws {
        let response = try await collect("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
        #expect(response.status == .ok)
        #expect(String(buffer: response.body) == "{}")
        #expect(response.keepsAlive)
    }

    @Test func connectionCloseInAnyCaseEndsTheConnection() async throws {
        #expect(try await !collect("HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\n{}").keepsAlive)
        #expect(try await !collect("HTTP/1.1 200 OK\r\nCONNECTION: Close\r\ncontent-length: 2\r\n\r\n{}").keepsAlive)
    }

    @Test func answerEndedByClosingTheConnectionEndsIt() async throws {
        // No length and not chunked: the body runs until the upstream closes, so nothing may follow.
        let (channel, answer) = try expectingAnswer()
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{}"))
        channel.pipeline.fireChannelInactive()
        let response = try await answer.get()
        #expect(String(buffer: response.body) == "{}")
        #expect(!response.keepsAlive)
        _ = try? channel.finish()
    }

    @Test func http10AnswerWithoutKeepAliveEndsTheConnection() async throws {
        #expect(try await !collect("HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n{}").keepsAlive)
        #expect(try await collect("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\n{}").keepsAlive)
    }
}
