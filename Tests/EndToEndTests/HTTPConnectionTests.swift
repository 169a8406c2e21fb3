import Foundation
import TestFixtures
import Testing

/// The gateway's HTTP/1.x connection handling, byte by byte over a real socket.
@Suite struct HTTPConnectionTests {
    static let yaml = """
        server: {max_request_bytes: 1KiB}
        providers:
        \(fakeProvider("local", index: 0))
        models:
          small: {provider: local}
        """

    static let chatBody = #"{"model":"small","messages":[{"role":"user","content":"hi"}]}"#

    static func post(_ body: String, version: String = "1.1", headers: String = "") -> String {
        "POST /v1/chat/completions HTTP/\(version)\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\(headers)\r\n\(body)"
    }

    static let health = "GET /health HTTP/1.1\r\nHost: gw\r\n\r\n"

    @Test func pipelinedRequestsAreAnsweredInOrderOnOneConnection() async throws {
        try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
            let connection = try await RawConnection.open(port: gateway.port)
            defer { Task { await connection.close() } }
            // Three requests in one segment; the last asks to close.
            try await connection.send(
                Self.post(Self.chatBody) + Self.health + "GET /ready HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"
            )
            let text = try await connection.receive { Fixtures.statusLines(in: $0).count == 3 && $0.contains("providers_enabled") }
            #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
            let chat = try #require(text.range(of: "chat.completion"))
            let status = try #require(text.range(of: #"{"status":"ok"}"#))
            let ready = try #require(text.range(of: "providers_enabled"))
            #expect(chat.lowerBound < status.lowerBound && status.lowerBound < ready.lowerBound)
            // Each answer is its own, dated, and only the last closes.
            #expect(text.components(separatedBy: "x-multiprodigy-request-id: ").count == 4)
            let dates = text.split(separator: "\r\n").filter { $0.hasPrefix("date: ") }
            #expect(dates.count == 3)
            #expect(dates.allSatisfy { $0.wholeMatch(of: /date: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT/) != nil })
            #expect(text.components(separatedBy: "connection: close").count == 2)
            #expect(try await connection.waitForClose())
        }
    }

    @Test func anHTTP10RequestWithoutKeepAliveGetsAnHTTP10AnswerAndTheConnectionCloses() async throws {
        try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
            let connection = try await RawConnection.open(port: gateway.port)
            defer { Task { await connection.close() } }
            // Without Host, which HTTP/1.0 may omit (RFC 9112 §3.2 requires it of HTTP/1.1 only).
            try await connection.send("GET /health HTTP/1.0\r\n\r\n")
            #expect(try await connection.waitForClose())
            #expect(connection.text.hasPrefix("HTTP/1.0 200 OK\r\n"))
            #expect(connection.text.contains("connection: close\r\n"))
            #expect(connection.text.hasSuffix(#"{"status":"ok"}"#))
        }
    }

    @Test func anHTTP10KeepAliveClientKeepsItsConnectionForBufferedAnswers() async throws {
        try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
            let connection = try await RawConnection.open(port: gateway.port)
            defer { Task { await connection.close() } }
            let request = "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
            try await connection.send(request)
            try await connection.receive { $0.hasSuffix(#"{"status":"ok"}"#) }
            try await connection.send(request)
            let text = try await connection.receive { Fixtures.statusLines(in: $0).count == 2 && $0.hasSuffix(#"{"status":"ok"}"#) }
            #expect(Fixtures.statusLines(in: text) == ["HTTP/1.0 200 OK", "HTTP/1.0 200 OK"])
            #expect(text.components(separatedBy: "connection: keep-alive\r\n").count == 3)
            try await Task.sleep(for: .milliseconds(100))
            #expect(!connection.isClosedByPeer)
        }
    }

    @Test func aStreamToAnHTTP10ClientEndsWithTheConnectionNotWithChunkedFraming() async throws {
        let upstream = FakeUpstream(.stream(events: FakeUpstream.stream(["Hel", "lo"])))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let connection = try await RawConnection.open(port: gateway.port)
            defer { Task { await connection.close() } }
            let body = #"{"model":"small","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
            try await connection.send(Self.post(body, version: "1.0", headers: "Connection: keep-alive\r\n"))
            #expect(try await connection.waitForClose())
            let text = connection.text
            #expect(text.hasPrefix("HTTP/1.0 200 OK\r\n"))
            #expect(text.contains("connection: close\r\n"))
            #expect(!text.lowercased().contains("transfer-encoding"))
            #expect(text.hasSuffix("data: [DONE]\n\n"))
        }
    }

    @Test func expectContinueIsAnsweredBeforeTheBodyIsSent() async throws {
        try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
            let connection = try await RawConnection.open(port: gateway.port)
            defer { Task { await connection.close() } }
            let head = Self.post(Self.chatBody, headers: "Expect: 100-continue\r\n").dropLast(Self.chatBody.utf8.count)
            try await connection.send(String(head))
            try await connection.receive { $0.contains("\r\n\r\n") }
            #expect(connection.text == "HTTP/1.1 100 Continue\r\n\r\n")
            try await connection.send(Self.chatBody)
            let text = try await connection.receive { $0.contains("chat.completion") }
            #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"])
        }
    }

    @Test func aDeclaredBodyOverTheLimitIsAnswered413AtOnceAndTheConnectionStaysUsable() async throws {
        let upstream = FakeUpstream()
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let connection = try await RawConnection.open(port: gateway.port)
            defer { Task { await connection.close() } }
            let head = "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Length: 5000\r\n\r\n"
            try await connection.send(head)
            // Answered before a byte of the body was sent.
            let answer = try await connection.receive { $0.contains("request_too_large") }
            #expect(Fixtures.statusLines(in: answer) == ["HTTP/1.1 413 Content Too Large"])
            // The body the client was committed to is read and dropped; the next request is served.
            try await connection.send(String(repeating: "x", count: 5000) + Self.health)
            let text = try await connection.receive { $0.hasSuffix(#"{"status":"ok"}"#) }
            #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 413 Content Too Large", "HTTP/1.1 200 OK"])
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func aChunkedBodyThatGrowsOverTheLimitIs413AndTheConnectionStaysUsable() async throws {
        let upstream = FakeUpstream()
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let connection = try await RawConnection.open(port: gateway.port)
            defer { Task { await connection.close() } }
            let chunk = String(repeating: "x", count: 600)
            let chunked = "258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n"
            try await connection.send(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + Self.health
            )
            let text = try await connection.receive { $0.hasSuffix(#"{"status":"ok"}"#) }
            #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 413 Content Too Large", "HTTP/1.1 200 OK"])
            #expect(text.contains("1024 bytes, server.max_request_bytes"))
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func bytesThatAreNotHTTPGet400InTheErrorEnvelopeAndTheConnectionCloses() async throws {
        try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
            let connection = try await RawConnection.open(port: gateway.port)
            defer { Task { await connection.close() } }
            try await connection.send("HELLO THERE\r\n\r\n")
            #expect(try await connection.waitForClose())
            #expect(Fixtures.statusLines(in: connection.text) == ["HTTP/1.1 400 Bad Request"])
            #expect(connection.text.contains("connection: close\r\n"))
            #expect(connection.text.lowercased().contains("content-type: application/json\r\n"))
            #expect(FrontDoorTests.errorCode(connection.text) == "invalid_http")
        }
    }

    @Test func aClientThatClosesItsSendingSideWhileIdleIsDisconnected() async throws {
        try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
            let connection = try await RawConnection.open(port: gateway.port)
            defer { Task { await connection.close() } }
            try await connection.send(Self.health)
            try await connection.receive { $0.hasSuffix(#"{"status":"ok"}"#) }
            #expect(!connection.isClosedByPeer)
            try await connection.closeOutput()
            #expect(try await connection.waitForClose())
        }
    }
}
