import Foundation
import TestFixtures
import Testing

/// What an attacker's or a careless client's probe found correct, kept correct: request smuggling
/// and header bombs are refused in the error envelope and the connection closes; path spellings do
/// not get past the key; an upstream's compressed answer is relayed, not inflated.
@Suite struct FrontDoorProbeTests {
    static let yaml = """
        auth: {master_key: mp-probe-master-key-0123456789}
        providers:
        \(fakeProvider("local", index: 0))
        models:
          small: {provider: local}
        """

    static let openYAML = """
        providers:
        \(fakeProvider("local", index: 0))
        models:
          small: {provider: local}
        """

    /// A probe, and the decoder's words the 400 must carry.
    static let refused: [(name: String, bytes: String, reason: String)] = [
        (
            "Content-Length with Transfer-Encoding",
            "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "could not be parsed"
        ),
        (
            "two Content-Lengths",
            "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
            "content-length"
        ),
        (
            "a transfer coding that is not chunked",
            "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
            "could not be parsed"
        ),
        (
            "an obsolete line folding",
            "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
            "invalid character in header"
        ),
        (
            "a space before the colon",
            "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nabcde",
            "invalid character in header"
        ),
        (
            "a chunk size that is not hexadecimal",
            "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            "chunk size"
        ),
        (
            "a 1 MB header", "GET /health HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "a", count: 1 << 20) + "\r\n\r\n",
            "header bytes"
        ),
        (
            "20,000 headers",
            "GET /health HTTP/1.1\r\nHost: a\r\n" + (0..<20_000).map { "X-H\($0): v\r\n" }.joined() + "\r\n",
            "header bytes"
        ),
        ("bare line feeds", "GET /health HTTP/1.1\nHost: a\n\n", "invalid HTTP version"),
        ("a NUL in the target", "GET /hea\u{0}lth HTTP/1.1\r\nHost: a\r\n\r\n", "invalid URL"),
    ]

    @Test(arguments: refused.indices)
    func smugglingAndHeaderBombsAre400sInTheEnvelopeAndTheConnectionCloses(_ index: Int) async throws {
        let probe = Self.refused[index]
        // On an open gateway, so the parser's refusal is what answers (with a master key, a probe
        // without one is refused from its head first).
        try await withGateway(upstreams: [FakeUpstream()], yaml: Self.openYAML) { gateway in
            let connection = try await RawConnection.open(port: gateway.port)
            defer { Task { await connection.close() } }
            try? await connection.send(probe.bytes)
            #expect(try await connection.waitForClose(), "\(probe.name)")
            #expect(Fixtures.statusLines(in: connection.text) == ["HTTP/1.1 400 Bad Request"], "\(probe.name)")
            #expect(FrontDoorTests.errorCode(connection.text) == "invalid_http", "\(probe.name)")
            let message = (FrontDoorTests.lastBody(connection.text)["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains(probe.reason), "\(probe.name): \(message)")
        }
    }

    @Test(arguments: ["/admin/keys", "//admin/keys", "/admin//keys", "/admin/keys/", "/admin/./keys", "/%61dmin/keys", "/ADMIN/keys"])
    func noSpellingOfAnAdminPathGetsInWithoutTheKey(_ path: String) async throws {
        try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.POST, path, body: #"{"name":"sneaky"}"#)
            #expect(reply.status == 401 || reply.status == 404, "\(path): \(reply.status)")
            #expect(!reply.body.contains("mp-"), "\(path)")
        }
    }

    @Test(arguments: [true, false])
    func anUpstreamsCompressedAnswerIsRelayedAsItIsNotInflated(tls: Bool) async throws {
        // Marked gzip but plain JSON: a client that inflated it would fail; one that relays it passes.
        let upstream = FakeUpstream(
            .respondWithHeaders(status: .ok, headers: [("content-encoding", "gzip")], body: FakeUpstream.completion())
        )
        try await withGateway(upstreams: [upstream], yaml: Self.openYAML, tlsUpstreams: tls) { gateway in
            let reply = try await gateway.chat("small")
            #expect(reply.status == 200, "\(reply.body)")
            #expect(reply.body.contains("Hello from upstream"))
        }
    }
}
