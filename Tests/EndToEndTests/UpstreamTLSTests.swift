import Foundation
import Logging
import NIOSSL
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyProviders

/// HTTPS upstreams through the real server: the gateway verifies the upstream's certificate
/// against the provider's `ca_file` (a private CA) or the system's trust roots, streams and plain
/// answers alike, and an upstream it cannot trust is a connection failure that fails over.
@Suite struct UpstreamTLSTests {
    private static let routes = """
        models:
          first: {provider: a}
          second: {provider: b}
        routes:
          r: {policy: ordered, targets: [first, second]}
        """

    @Test(arguments: [false, true])
    func anAnswerComesOverTLSFromAnUpstreamTheProvidersCASigned(stream: Bool) async throws {
        let upstream = FakeUpstream(FakeUpstream.answer)
        let yaml = "providers:\n\(fakeProvider("a", index: 0))models:\n  first: {provider: a}\n"
        try await withGateway(upstreams: [upstream], yaml: yaml, tlsUpstreams: true) { gateway in
            for _ in 0..<3 {
                let reply = try await gateway.chat("first", stream: stream)
                #expect(reply.status == 200)
                if stream {
                    #expect(reply.events.last == "[DONE]")
                    #expect(reply.body.contains("Hi"))
                } else {
                    // Assembled from the upstream's stream.
                    #expect(reply.json["object"] as? String == "chat.completion")
                    #expect(reply.body.contains("Hi!"))
                }
            }
        }
        #expect(upstream.requests.count == 3)
        #expect(upstream.requests.allSatisfy { $0.path == "/v1/chat/completions" })
    }

    /// An upstream whose certificate does not chain to what the provider trusts (another CA's
    /// bundle, or the system's roots for a private CA) gets no request: the handshake fails, and
    /// the next target answers.
    @Test(arguments: [true, false])
    func anUpstreamWhoseCertificateIsNotTrustedIsRefusedAndTheNextTargetAnswers(otherCA: Bool) async throws {
        let untrusted = FakeUpstream(FakeUpstream.answer)
        let fallback = FakeUpstream(FakeUpstream.answer)
        let authority = TestCertificateAuthority.shared
        let serverTLS = try authority.serverConfiguration
        try await withService({ onPort in try await untrusted.run(tls: serverTLS, onPort: onPort) }) { port in
            let trust = otherCA ? "ca_file: \"\(authority.otherCAFile)\", " : ""
            let yaml = """
                providers:
                  a: {type: openai, \(trust)base_url: "https://127.0.0.1:\(port)/v1", locality: local}
                \(fakeProvider("b", index: 0))\(Self.routes)
                """
            try await withGateway(upstreams: [fallback], yaml: yaml) { gateway in
                let reply = try await gateway.chat("r")
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
                let alone = try await gateway.chat("first")
                #expect(alone.status == 502)
                let message = alone.error["message"] as? String ?? ""
                #expect(message.contains("TLS"), "\(message)")
            }
        }
        #expect(untrusted.requests.isEmpty, "no request reaches an upstream that was not trusted")
        #expect(fallback.requests.count == 1)
    }

    @Test func caFileIsRefusedForAPlainHTTPUpstreamAndWhenItCannotBeRead() throws {
        let plain = """
            providers:
              a: {type: openai, base_url: "http://127.0.0.1:9/v1", ca_file: "\(TestCertificateAuthority.shared.caFile)"}
            """
        #expect {
            try ConfigLoader(environment: [:]).load(yaml: plain, source: "test")
        } throws: { error in
            "\(error)".contains("providers.a.ca_file") && "\(error)".contains("https upstreams only")
        }
        let missing = """
            providers:
              a: {type: openai, base_url: "https://127.0.0.1:9/v1", ca_file: "/nonexistent/ca.pem"}
            """
        #expect {
            try ConfigLoader(environment: [:]).load(yaml: missing, source: "test")
        } throws: { error in
            "\(error)".contains("providers.a.ca_file") && "\(error)".contains("not a readable file")
        }
    }

    /// A file that holds no certificate is refused when the provider is built (at start, and at a
    /// reload, which then keeps the running configuration), naming the key and the file.
    @Test func aBundleWithoutACertificateIsAConfigErrorNamingIt() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString).pem").path
        try "not a certificate\n".write(toFile: empty, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let config = ProviderConfig(name: "a", type: "openai", baseURL: "https://127.0.0.1:9/v1", caFile: empty)
        let context = ProviderContext(transport: testTransport, gatewayConfig: GatewayConfig(), logger: Logger(label: "test"))
        #expect {
            _ = try ProviderRegistry.makeProvider(for: config, context: context)
        } throws: { error in
            error is ConfigError && "\(error)".contains("providers.a.ca_file") && "\(error)".contains(empty)
        }
    }
}
