import Foundation
import Testing

/// Non-streaming `POST /v1/chat/completions` through an OpenAI-compatible upstream.
@Suite struct ChatCompletionsPassThroughTests {
    static let yaml = """
        providers:
        \(fakeProvider("local", index: 0))
          secured: {type: openai, base_url: "http://127.0.0.1:{PORT0}", api_key: sk-test-secret, headers: {OpenAI-Organization: org-1}}
        models:
          small: {provider: local, model: upstream-small}
          keyed: {provider: secured, model: keyed-upstream}
        routes:
          auto: {policy: ordered, targets: [small]}
        """

    @Test func bodyPassesThroughLosslesslyWithOnlyModelRewrittenAndExtensionRemoved() async throws {
        let upstream = FakeUpstream()
        let body = #"""
            {"model":"auto","messages":[{"role":"user","content":"héllo \"quoted\" \u00e9"}],"seed":12345678901234567890,"temperature":0.7000000000000001,"logit_bias":{"50256":-100},"future_field":{"nested":[1,2.50,{"x":null}]},"multiprodigy":{"policy":"cost"}}
            """#
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(body: body)
            #expect(reply.status == 200)
            let received = try #require(upstream.requests.first).bodyString
            #expect(received.contains(#""model":"upstream-small""#))
            #expect(!received.contains("multiprodigy"))
            #expect(received.contains(#""seed":12345678901234567890"#), "big integers keep every digit")
            #expect(received.contains(#""temperature":0.7000000000000001"#))
            #expect(received.contains(#""future_field":{"nested":[1,2.50,{"x":null}]}"#), "unknown fields pass byte for byte")
            #expect(received.contains(#""content":"héllo \"quoted\" \u00e9""#), "strings are not re-escaped")
            #expect(received.contains(#""logit_bias":{"50256":-100}"#))
        }
    }

    @Test func responseNamesTheDeclaredModelAndCarriesRoutingHeaders() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion(extra: #","service_tier":"default""#)))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("auto")
            #expect(reply.status == 200)
            #expect(reply.json["model"] as? String == "small")
            #expect(reply.json["service_tier"] as? String == "default", "upstream fields reach the client")
            let choices = try #require(reply.json["choices"] as? [[String: Any]])
            #expect((choices.first?["message"] as? [String: Any])?["content"] as? String == "Hello from upstream")
            #expect(reply.headers.first(name: "x-multiprodigy-provider") == "local")
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "small")
            #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "1")
            #expect(reply.headers.first(name: "x-multiprodigy-route") == "auto; policy=ordered; order=small")
            #expect(reply.headers.first(name: "x-multiprodigy-request-id")?.hasPrefix("req_") == true)
        }
    }

    @Test func providerSlashModelReachesAnUndeclaredModel() async throws {
        let upstream = FakeUpstream()
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("local/some-other-model")
            #expect(reply.status == 200)
            #expect(reply.json["model"] as? String == "local/some-other-model")
            #expect(upstream.requests.first?.json["model"] as? String == "some-other-model")
        }
    }

    @Test func upstreamGetsTheProviderKeyAndHeadersButNeverTheClientsKey() async throws {
        let upstream = FakeUpstream()
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(
                body: #"{"model":"keyed","messages":[{"role":"user","content":"x"}]}"#,
                headers: [("authorization", "Bearer client-key")]
            )
            #expect(reply.status == 200)
            let request = try #require(upstream.requests.first)
            #expect(request.path == "/v1/chat/completions", "a base_url without a path gets /v1")
            #expect(request.headers[.authorization] == "Bearer sk-test-secret")
            #expect(request.headers[.init("OpenAI-Organization")!] == "org-1")
            #expect(request.json["model"] as? String == "keyed-upstream")
        }
    }

    @Test func upstreamClientErrorPassesThroughWithItsMessageAndIsNotFailedOver() async throws {
        let first = FakeUpstream(
            .respond(
                status: .badRequest,
                body:
                    #"{"error":{"message":"Invalid 'max_tokens': integer below minimum value.","type":"invalid_request_error","param":"max_tokens","code":"integer_below_min_value"}}"#
            )
        )
        let second = FakeUpstream()
        let yaml = """
            providers:
            \(fakeProvider("a", index: 0))\(fakeProvider("b", index: 1))
            models:
              m1: {provider: a}
              m2: {provider: b}
            routes:
              r: {policy: ordered, targets: [m1, m2]}
            """
        try await withGateway(upstreams: [first, second], yaml: yaml) { gateway in
            let reply = try await gateway.chat("r")
            #expect(reply.status == 400)
            #expect(reply.error["message"] as? String == "Invalid 'max_tokens': integer below minimum value.")
            #expect(reply.error["code"] as? String == "integer_below_min_value")
            #expect(reply.error["param"] as? String == "max_tokens")
            #expect(second.requests.isEmpty)
            #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "1")
        }
    }

    @Test func upstreamPlainTextErrorIsWrappedInTheEnvelope() async throws {
        let upstream = FakeUpstream(
            .respond(status: .unprocessableContent, body: "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096")
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("small")
            #expect(reply.status == 422)
            #expect((reply.error["message"] as? String)?.contains("must be <= 4096") == true)
            #expect(reply.error.keys.sorted() == ["code", "message", "param", "type"])
        }
    }
}
