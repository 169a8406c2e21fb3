import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOSSL
import Testing

@testable import MultiProdigyCore
@testable import MultiProdigyProviders

#if canImport(Glibc)
import Glibc
#endif

/// The upstream client's own HTTP: URLs parsed into endpoints, requests serialised by hand (so
/// nothing a client supplies may add a line), and how a connection reports a peer that went away.
@Suite struct UpstreamRequestTests {
    @Test(arguments: [
        ("http://127.0.0.1:8000/v1/chat/completions", false, "127.0.0.1", 8000, "/v1/chat/completions", "127.0.0.1:8000"),
        ("https://api.openai.com/v1", true, "api.openai.com", 443, "/v1", "api.openai.com"),
        ("HTTPS://api.openai.com", true, "api.openai.com", 443, "/", "api.openai.com"),
        ("http://[::1]:11434/api/chat", false, "::1", 11434, "/api/chat", "[::1]:11434"),
        ("http://host?x=1", false, "host", 80, "/?x=1", "host"),
        ("https://host:8443/a#fragment", true, "host", 8443, "/a", "host:8443"),
        ("https://host/images/caf\u{E9}.png", true, "host", 443, "/images/caf%C3%A9.png", "host"),
    ])
    func urlsBecomeEndpoints(url: String, tls: Bool, host: String, port: Int, path: String, hostHeader: String) throws {
        let endpoint = try #require(UpstreamEndpoint(url))
        #expect(endpoint.usesTLS == tls)
        #expect(endpoint.host == host)
        #expect(endpoint.port == port)
        #expect(endpoint.path == path)
        #expect(endpoint.hostHeader == hostHeader)
    }

    @Test(arguments: [
        "ftp://host/file", "http://", "http://host:0/", "http://host:70000/", "http://host:port/", "http://user:pass@host/",
        "http://host/a b", "http://host/a\r\nX-Injected: 1", "http://host/a\u{7F}", "http://ho st/", "/v1/chat",
    ])
    func urlsThatCannotBeSentVerbatimAreRefused(url: String) {
        #expect(UpstreamEndpoint(url) == nil)
    }

    /// A client's image URL (Gemini's remote images) with line breaks would have split the request
    /// in two on the wire.
    @Test func aURLWithLineBreaksNeverReachesTheWire() {
        let url = "http://images.example/a.png HTTP/1.1\r\nX-Injected: 1\r\n\r\nDELETE /admin HTTP/1.1\r\nx: y"
        #expect(UpstreamEndpoint(url) == nil)
    }

    @Test func headersWithLineBreaksOrBadNamesAreRefusedAndFramingHeadersAreTheTemplates() throws {
        let endpoint = try #require(UpstreamEndpoint("http://127.0.0.1:9/v1/x"))
        #expect(UpstreamRequestTemplate(endpoint: endpoint, headers: ["x-a": "1\r\nx-b: 2"]) == nil)
        #expect(UpstreamRequestTemplate(endpoint: endpoint, headers: ["x a": "1"]) == nil)
        #expect(UpstreamRequestTemplate(endpoint: endpoint, headers: ["x:a": "1"]) == nil)
        let template = try #require(
            UpstreamRequestTemplate(endpoint: endpoint, headers: ["content-length": "5", "transfer-encoding": "chunked", "x-a": "1"])
        )
        let wire = String(buffer: template.request(with: ByteBuffer(string: "{}")))
        #expect(wire == "POST /v1/x HTTP/1.1\r\nhost: 127.0.0.1:9\r\nx-a: 1\r\ncontent-length: 2\r\n\r\n{}")
    }

    @Test func aGETHasNoBodyAndAConfiguredHostWins() throws {
        let endpoint = try #require(UpstreamEndpoint("https://10.0.0.5/v1/models"))
        let template = try #require(
            UpstreamRequestTemplate(method: .GET, endpoint: endpoint, headers: ["Host": "llm.internal", "accept": "a/b"])
        )
        #expect(String(buffer: template.request(with: nil)) == "GET /v1/models HTTP/1.1\r\nhost: llm.internal\r\naccept: a/b\r\n\r\n")
    }

    @Test func aTracedAttemptsHeadersGoAmongTheHeadersAndAnUntracedRequestIsUnchanged() throws {
        let endpoint = try #require(UpstreamEndpoint("http://127.0.0.1:9/v1/x"))
        let template = try #require(UpstreamRequestTemplate(endpoint: endpoint, headers: ["x-a": "1"]))
        let body = ByteBuffer(string: "{}")
        let trace = UpstreamTraceHeaders(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: "v=1")
        #expect(
            String(buffer: template.request(with: body, trace: trace))
                == "POST /v1/x HTTP/1.1\r\nhost: 127.0.0.1:9\r\nx-a: 1\r\n"
                + "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\ntracestate: v=1\r\n"
                + "content-length: 2\r\n\r\n{}"
        )
        #expect(template.request(with: body, trace: nil) == template.request(with: body))
        let get = try #require(UpstreamRequestTemplate(method: .GET, endpoint: endpoint, headers: [:]))
        #expect(
            String(buffer: get.request(with: nil, trace: UpstreamTraceHeaders(traceparent: "00-a-b-00")))
                == "GET /v1/x HTTP/1.1\r\nhost: 127.0.0.1:9\r\ntraceparent: 00-a-b-00\r\n\r\n"
        )
        // A value that could add a line is left out.
        let hostile = UpstreamTraceHeaders(traceparent: "00-a-b-01", tracestate: "v=1\r\nx-injected: 1")
        #expect(!String(buffer: template.request(with: body, trace: hostile)).contains("x-injected"))
    }

    /// A reused connection the upstream resets before answering (ECONNRESET, or a TLS peer closing
    /// without close_notify) is a closed connection, which the transport retries on a new one.
    @Test(arguments: [
        IOError(errnoCode: ECONNRESET, reason: "read") as any Error, IOError(errnoCode: EPIPE, reason: "write"),
        NIOSSLError.uncleanShutdown,
    ])
    func aResetBeforeAnyByteIsAClosedConnection(error: any Error) async throws {
        let channel = EmbeddedChannel()
        let handler = UpstreamConnectionHandler()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")))
        let promise = channel.eventLoop.makePromise(of: UpstreamCollectedResponse.self)
        handler.expectResponse(maxBodyBytes: 1 << 20) { promise.completeWith($0) }
        channel.pipeline.fireErrorCaught(error)
        await #expect {
            _ = try await promise.futureResult.get()
        } throws: { thrown in
            (thrown as? HTTPClientConnectionClosedError)?.receivedResponseBytes == false
        }
        _ = try? channel.finish()
    }

    /// Counts the reads the handlers above it ask the channel for.
    private final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Any
        var reads = 0

        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    /// Back-pressure: while the consumer has not taken a streamed answer's unread bytes (256 KiB
    /// or more), the connection asks for no more; once it takes them, the withheld read is made.
    @Test func aStreamedAnswerStopsReadingUntilItsConsumerTakesWhatWasRead() async throws {
        let channel = EmbeddedChannel()
        let counter = ReadCounter()
        let handler = UpstreamConnectionHandler()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")))
        let storage = UpstreamBodyStorage(handler: NIOLoopBound(handler, eventLoop: channel.eventLoop), eventLoop: channel.eventLoop)
        var head: HTTPResponseHead?
        handler.expectStream(storage: storage, head: { head = try? $0.get() }, ended: { _ in })
        let size = UpstreamBodyStorage.highWatermark + 1000
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: \(size * 2)\r\n\r\n"))
        try channel.writeInbound(ByteBuffer(repeating: UInt8(ascii: "a"), count: size))
        channel.pipeline.fireChannelReadComplete()
        #expect(head?.status == .ok)
        let before = counter.reads
        channel.read()
        #expect(counter.reads == before, "a full buffer withholds the read")
        let body = UpstreamResponseBody(storage: storage)
        var iterator = body.makeAsyncIterator()
        let taken = try await iterator.next()
        #expect(taken?.readableBytes == size)
        #expect(counter.reads == before + 1, "taking the bytes makes the withheld read")
        channel.read()
        #expect(counter.reads == before + 2, "an empty buffer withholds nothing")
        _ = try? channel.finish()
    }
}
