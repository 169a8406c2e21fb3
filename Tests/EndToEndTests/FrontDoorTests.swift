import Foundation
import NIOHTTP1
import TestFixtures
import Testing

extension OneSuiteAtATime {
    /// The front door's limits and HTTP rules on the gateway, byte by byte over real sockets: time
    /// limits on clients, the key checked from the head, the connection cap, `Host` and `HEAD`
    /// (malformed requests: ``HTTPConnectionTests``, ``FrontDoorProbeTests``).
    @Suite struct FrontDoorTests {
        static let masterKey = "mp-test-master-key-0123456789"

        /// Client limits of 3 s: short for a test, and time enough for a busy machine to read a request
        /// sent at once (the tests of one limit make it shorter, see ``yaml(only:at:)``).
        static let yaml = """
            server: {head_timeout: 3s, body_timeout: 3s, idle_timeout: 3s, max_connections: 3}
            auth: {master_key: \(masterKey)}
            providers:
            \(fakeProvider("local", index: 0))
            models:
              small: {provider: local}
            """

        static let chatBody = #"{"model":"small","messages":[{"role":"user","content":"hi"}]}"#

        /// The other limits, in configs where one is short: a close well before them comes from the
        /// short one alone, however busy the machine.
        static let otherLimits = Duration.seconds(60)

        /// ``yaml`` with `limit` (`head_timeout`, `body_timeout` or `idle_timeout`) at `value` and the
        /// other two at ``otherLimits``.
        static func yaml(only limit: String, at value: String) -> String {
            var text = yaml
            for name in ["head_timeout", "body_timeout", "idle_timeout"] {
                text = text.replacingOccurrences(of: "\(name): 3s", with: "\(name): \(name == limit ? value : "60s")")
            }
            return text
        }

        /// How long ``timeToClose(_:from:limit:)`` waits in the tests of one short limit: less than
        /// ``otherLimits``, so that a connection only they would close counts as never closed.
        static let closeWait = Duration.seconds(45)

        static func post(_ body: String, key: String? = masterKey, extra: String = "") -> String {
            let authorization = key.map { "Authorization: Bearer \($0)\r\n" } ?? ""
            return
                "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n\(authorization)Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\(extra)\r\n\(body)"
        }

        /// The JSON body after the last head in `text`.
        static func lastBody(_ text: String) -> [String: Any] {
            guard let range = text.range(of: "\r\n\r\n", options: .backwards) else { return [:] }
            let body = Data(text[range.upperBound...].utf8)
            return (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        }

        static func errorCode(_ text: String) -> String? {
            (lastBody(text)["error"] as? [String: Any])?["code"] as? String
        }

        /// Waits up to `limit` for the connection to close; how long it took, nil when it did not.
        static func timeToClose(_ connection: RawConnection, from start: ContinuousClock.Instant, limit: Duration) async throws -> Duration?
        {
            while !connection.isClosedByPeer, ContinuousClock.now - start < limit { try await Task.sleep(for: .milliseconds(10)) }
            return connection.isClosedByPeer ? ContinuousClock.now - start : nil
        }

        @Test func halfAHeadGets408AndTheConnectionClosesAtTheHeadTimeout() async throws {
            try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml(only: "head_timeout", at: "400ms")) { gateway in
                let connection = try await RawConnection.open(port: gateway.port)
                defer { Task { await connection.close() } }
                let start = ContinuousClock.now
                try await connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-")
                let elapsed = try #require(try await Self.timeToClose(connection, from: start, limit: Self.closeWait))
                // 400 ms (checked every 100 ms), not before; and long before the other limits' 60 s.
                #expect(elapsed >= .milliseconds(390))
                #expect(elapsed < Self.otherLimits / 2)
                #expect(Fixtures.statusLines(in: connection.text) == ["HTTP/1.1 408 Request Timeout"])
                #expect(Self.errorCode(connection.text) == "request_timeout")
                #expect(connection.text.contains("connection: close\r\n"))
            }
        }

        @Test func halfABodyGets408AndTheConnectionClosesAtTheBodyTimeout() async throws {
            let upstream = FakeUpstream()
            try await withGateway(upstreams: [upstream], yaml: Self.yaml(only: "body_timeout", at: "400ms")) { gateway in
                let connection = try await RawConnection.open(port: gateway.port)
                defer { Task { await connection.close() } }
                let start = ContinuousClock.now
                try await connection.send(String(Self.post(Self.chatBody).dropLast(10)))
                let elapsed = try #require(try await Self.timeToClose(connection, from: start, limit: Self.closeWait))
                #expect(elapsed >= .milliseconds(390))
                #expect(elapsed < Self.otherLimits / 2)
                #expect(Fixtures.statusLines(in: connection.text) == ["HTTP/1.1 408 Request Timeout"])
                #expect(Self.errorCode(connection.text) == "request_timeout")
                #expect(upstream.requests.isEmpty)
            }
        }

        @Test func aTricklingBodyIsHeldToTheWholeBodyTimeoutNotToTheGapsBetweenReads() async throws {
            try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml(only: "body_timeout", at: "400ms")) { gateway in
                let connection = try await RawConnection.open(port: gateway.port)
                defer { Task { await connection.close() } }
                let body = #"{"model":"small","messages":[{"role":"user","content":""# + String(repeating: "a", count: 200) + #""}]}"#
                let request = Self.post(body)
                let split = request.index(request.startIndex, offsetBy: request.utf8.count - body.utf8.count)
                let start = ContinuousClock.now
                try await connection.send(String(request[..<split]))
                // One byte every 100 ms for 15 s: each gap is far shorter than the 400 ms limit, the
                // whole body far longer.
                var sent = 0
                for byte in request[split...].prefix(150) {
                    guard !connection.isClosedByPeer else { break }
                    try? await connection.send(String(byte))
                    sent += 1
                    try await Task.sleep(for: .milliseconds(100))
                }
                _ = try #require(try await Self.timeToClose(connection, from: start, limit: Self.closeWait))
                // Cut while the bytes still came: a limit on the gaps would have let all of them in.
                #expect(sent < 150, "closed after \(sent) bytes")
                #expect(Self.errorCode(connection.text) == "request_timeout")
            }
        }

        @Test func anIdleConnectionClosesQuietlyAtTheIdleTimeoutAndAKeepAliveOneAfterItsAnswer() async throws {
            try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml(only: "idle_timeout", at: "2s")) { gateway in
                // Timed from before the connection opens, so the limit cannot have started earlier.
                let start = ContinuousClock.now
                let silent = try await RawConnection.open(port: gateway.port)
                defer { Task { await silent.close() } }
                let elapsed = try #require(try await Self.timeToClose(silent, from: start, limit: Self.closeWait))
                #expect(elapsed >= .milliseconds(1990))
                #expect(elapsed < Self.otherLimits / 2)
                #expect(silent.text.isEmpty)

                // The request goes 400 ms after the connection opened, so an idle limit that counted
                // from the opening would close it 1.6 s after the request, not 2 s after its answer (and
                // the 1.6 s leave a busy machine time to send it).
                let served = try await RawConnection.open(port: gateway.port)
                defer { Task { await served.close() } }
                try await Task.sleep(for: .milliseconds(400))
                let requested = ContinuousClock.now
                try await served.send(Self.post(Self.chatBody))
                try await served.receive { $0.contains("chat.completion") }
                #expect(!served.isClosedByPeer)
                let idle = try #require(try await Self.timeToClose(served, from: requested, limit: Self.closeWait))
                #expect(idle >= .milliseconds(1990))
                #expect(Fixtures.statusLines(in: served.text) == ["HTTP/1.1 200 OK"])
            }
        }

        @Test func aStreamLongerThanEveryClientLimitIsNotCut() async throws {
            // Eight chunks 750 ms apart: 6 s, twice every limit.
            let words = ["a", "b", "c", "d", "e", "f", "g", "h"]
            let upstream = FakeUpstream(.stream(events: FakeUpstream.stream(words), delay: .milliseconds(750)))
            try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
                let connection = try await RawConnection.open(port: gateway.port)
                defer { Task { await connection.close() } }
                let body = #"{"model":"small","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
                try await connection.send(Self.post(body))
                let text = try await connection.receive { $0.contains("data: [DONE]") }
                #expect(text.contains("data: [DONE]"))
                // One answer, the stream's: no 408 head after it and no in-band timeout in it (a bare "408"
                // also matches a header's digits, such as the overhead in milliseconds).
                #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 200 OK"])
                #expect(!text.contains("request_timeout"))
                #expect(words.allSatisfy { text.contains("\"content\":\"\($0)\"") })
            }
        }

        @Test func aRequestWithoutAValidKeyIsRefusedFromItsHeadAndItsBodyIsNeverRead() async throws {
            let upstream = FakeUpstream()
            try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
                for key in [nil, "wrong-key", "mp-not-a-real-virtual-key-000000"] as [String?] {
                    let connection = try await RawConnection.open(port: gateway.port)
                    defer { Task { await connection.close() } }
                    // 8 MB declared (within max_request_bytes), 64 KB sent: the answer must not wait for the rest.
                    let authorization = key.map { "Authorization: Bearer \($0)\r\n" } ?? ""
                    try await connection.send(
                        "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n\(authorization)Content-Length: 8000000\r\n\r\n"
                            + String(repeating: "x", count: 64 << 10)
                    )
                    #expect(try await connection.waitForClose(), "key \(key ?? "none")")
                    #expect(Fixtures.statusLines(in: connection.text) == ["HTTP/1.1 401 Unauthorized"])
                    #expect(Self.errorCode(connection.text) == "invalid_api_key")
                }
                // With the key, a body is read and served, and the connection stays open.
                let connection = try await RawConnection.open(port: gateway.port)
                defer { Task { await connection.close() } }
                try await connection.send(Self.post(Self.chatBody))
                try await connection.receive { $0.contains("chat.completion") }
                #expect(Fixtures.statusLines(in: connection.text) == ["HTTP/1.1 200 OK"])
                #expect(!connection.isClosedByPeer)
                #expect(upstream.requests.count == 1)
            }
        }

        @Test func aClientStillUploadingWhenRefusedReadsItsAnswerAndIsNotReset() async throws {
            // The upload must fit in its body limit however loaded the machine.
            let yaml = Self.yaml.replacingOccurrences(of: "body_timeout: 3s", with: "body_timeout: 30s")
            try await withGateway(upstreams: [FakeUpstream()], yaml: yaml) { gateway in
                // Small socket buffers, so most of the body is still to come when the 401 goes.
                let connection = try await RawConnection.open(port: gateway.port, bufferBytes: 64 << 10)
                defer { Task { await connection.close() } }
                let chunk = String(repeating: "x", count: 1 << 20)
                try await connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Length: \(4 << 20)\r\n\r\n")
                let upload = connection.startSending(chunk)
                try await connection.receive { $0.contains("invalid_api_key") }
                #expect(Fixtures.statusLines(in: connection.text) == ["HTTP/1.1 401 Unauthorized"])
                // The gateway closed its sending side but goes on reading, so the upload is not reset.
                try await upload.get()
                for _ in 0..<3 { try await connection.send(chunk) }
                #expect(try await connection.waitForClose())
                #expect(Self.errorCode(connection.text) == "invalid_api_key")
            }
        }

        @Test func aConnectionOverTheCapGets503AndASlotFreesWhenOneCloses() async throws {
            // Idle connections must stay open while the test opens the next ones, however slowly.
            let yaml = Self.yaml.replacingOccurrences(of: "idle_timeout: 3s", with: "idle_timeout: 30s")
            try await withGateway(upstreams: [FakeUpstream()], yaml: yaml) { gateway in
                var open: [RawConnection] = []
                for _ in 0..<3 {
                    let connection = try await RawConnection.open(port: gateway.port)
                    try await connection.send("GET /health HTTP/1.1\r\nHost: gw\r\n\r\n")
                    try await connection.receive { $0.contains(#"{"status":"ok"}"#) }
                    open.append(connection)
                }
                let refused = try await RawConnection.open(port: gateway.port)
                defer { Task { await refused.close() } }
                #expect(try await refused.waitForClose())
                #expect(Fixtures.statusLines(in: refused.text) == ["HTTP/1.1 503 Service Unavailable"])
                #expect(Self.errorCode(refused.text) == "too_many_connections")

                await open.removeFirst().close()
                // The slot frees once the gateway has seen the close, which a loaded machine may take a
                // while to do: a connection refused meanwhile is tried again, for up to 30 s.
                var admitted = try await RawConnection.open(port: gateway.port)
                let start = ContinuousClock.now
                while ContinuousClock.now - start < .seconds(30) {
                    // A refused connection may be closed before the request is sent.
                    try? await admitted.send("GET /health HTTP/1.1\r\nHost: gw\r\n\r\n")
                    try await admitted.receive { $0.contains("\r\n\r\n{") }
                    guard admitted.text.hasPrefix("HTTP/1.1 503") else { break }
                    await admitted.close()
                    try await Task.sleep(for: .milliseconds(50))
                    admitted = try await RawConnection.open(port: gateway.port)
                }
                let slot = admitted
                defer { Task { await slot.close() } }
                try await admitted.receive { $0.contains(#"{"status":"ok"}"#) }
                #expect(Fixtures.statusLines(in: admitted.text) == ["HTTP/1.1 200 OK"])
                for connection in open { await connection.close() }
            }
        }

        @Test(arguments: [
            ("GET /health HTTP/1.1\r\n\r\n", "needs a Host header"),
            ("GET /health HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "2 Host headers"),
            ("GET /health HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", "2 Host headers"),
            ("GET /health HTTP/1.1\r\nHost: a/b\r\n\r\n", "not a valid host"),
        ])
        func hostMustBeOneValidHeader(_ request: String, _ reason: String) async throws {
            try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
                let connection = try await RawConnection.open(port: gateway.port)
                defer { Task { await connection.close() } }
                try await connection.send(request)
                #expect(try await connection.waitForClose())
                #expect(Fixtures.statusLines(in: connection.text).map { $0.dropFirst(9) } == ["400 Bad Request"])
                #expect(Self.errorCode(connection.text) == "invalid_http")
                let message = (Self.lastBody(connection.text)["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains(reason), "\(message)")
            }
        }

        @Test(arguments: ["/health", "/ready", "/metrics", "/v1/models", "/v1/models/small", "/admin/breakers", "/admin/keys"])
        func everyGETEndpointAnswersHEADWithItsHeadOnly(_ path: String) async throws {
            try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
                let connection = try await RawConnection.open(port: gateway.port)
                defer { Task { await connection.close() } }
                let key = "Authorization: Bearer \(Self.masterKey)\r\n"
                try await connection.send("HEAD \(path) HTTP/1.1\r\nHost: gw\r\n\(key)\r\nGET /health HTTP/1.1\r\nHost: gw\r\n\r\n")
                let text = try await connection.receive { $0.contains(#"{"status":"ok"}"#) }
                #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
                // The HEAD answer says how long the GET body is, and sends none: the next bytes are the
                // second answer's status line.
                let first = try #require(text.range(of: "\r\n\r\n"))
                #expect(text[first.upperBound...].hasPrefix("HTTP/1.1 200 OK"))
                let length = text[..<first.lowerBound].split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length: ") }
                #expect(length.flatMap { Int($0.dropFirst(16)) } != nil, "\(text)")
            }
        }
    }
}

/// The suite by its own name, for the other tests that use its helpers.
typealias FrontDoorTests = OneSuiteAtATime.FrontDoorTests
