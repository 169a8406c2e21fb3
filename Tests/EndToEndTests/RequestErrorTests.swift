import Foundation
import Testing

/// Bad input gets OpenAI's envelope with the right status, and never reaches an upstream.
@Suite struct RequestErrorTests {
    static let yaml = """
        server: {max_request_bytes: 2KiB}
        providers:
        \(fakeProvider("local", index: 0))
        models:
          small: {provider: local}
        routes:
          auto: {policy: ordered, targets: [small]}
        """

    struct Case: Sendable, CustomStringConvertible {
        var body: String
        var status: Int
        var code: String
        var param: String?
        var description: String { code + " " + (param ?? "") }
    }

    static let cases: [Case] = [
        Case(body: #"{"model":"small","messages":[{"role":"user","content":"hi"}"#, status: 400, code: "invalid_json"),
        Case(body: "not json at all", status: 400, code: "invalid_json"),
        Case(body: "", status: 400, code: "invalid_json"),
        Case(body: #"["model"]"#, status: 400, code: "invalid_json"),
        Case(body: #"{"messages":[{"role":"user","content":"hi"}]}"#, status: 400, code: "missing_required_parameter", param: "model"),
        Case(body: #"{"model":"small"}"#, status: 400, code: "missing_required_parameter", param: "messages"),
        Case(body: #"{"model":"small","messages":[]}"#, status: 400, code: "empty_array", param: "messages"),
        Case(body: #"{"model":"small","messages":"hi"}"#, status: 400, code: "invalid_type", param: "messages"),
        Case(body: #"{"model":42,"messages":[{"role":"user","content":"hi"}]}"#, status: 400, code: "invalid_type", param: "model"),
        Case(
            body: #"{"model":"small","messages":[{"content":"hi"}]}"#,
            status: 400,
            code: "missing_required_parameter",
            param: "messages[0].role"
        ),
        Case(body: #"{"model":"small","messages":["hi"]}"#, status: 400, code: "invalid_type", param: "messages[0]"),
        Case(
            body: #"{"model":"small","messages":[{"role":"user","content":"hi"}],"stream":"yes"}"#,
            status: 400,
            code: "invalid_type",
            param: "stream"
        ),
        Case(
            body: #"{"model":"small","messages":[{"role":"user","content":"hi"}],"max_tokens":1.5}"#,
            status: 400,
            code: "invalid_type",
            param: "max_tokens"
        ),
        Case(
            body: #"{"model":"small","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}"#,
            status: 400,
            code: "invalid_type",
            param: "temperature"
        ),
        Case(
            body: #"{"model":"small","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":"yes"}}"#,
            status: 400,
            code: "invalid_type",
            param: "stream_options.include_usage"
        ),
        Case(
            body: #"{"model":"gpt-17","messages":[{"role":"user","content":"hi"}]}"#,
            status: 404,
            code: "model_not_found",
            param: "model"
        ),
        Case(
            body: #"{"model":"nobody/x","messages":[{"role":"user","content":"hi"}]}"#,
            status: 404,
            code: "model_not_found",
            param: "model"
        ),
        Case(
            body: #"{"model":"small","messages":[{"role":"user","content":"\#(String(repeating: "x", count: 3000))"}]}"#,
            status: 413,
            code: "request_too_large"
        ),
    ]

    @Test(arguments: cases)
    func badInputGetsAnOpenAIStyleError(_ testCase: Case) async throws {
        let upstream = FakeUpstream()
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(body: testCase.body)
            #expect(reply.status == testCase.status)
            #expect(reply.error["code"] as? String == testCase.code)
            #expect(reply.error["param"] as? String == testCase.param)
            #expect(reply.error.keys.sorted() == ["code", "message", "param", "type"])
            #expect((reply.error["message"] as? String)?.isEmpty == false)
            #expect(reply.headers.first(name: "x-multiprodigy-request-id") != nil)
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func unknownModelErrorListsWhatExists() async throws {
        try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("gpt-17")
            let message = try #require(reply.error["message"] as? String)
            #expect(message.contains("routes: auto"))
            #expect(message.contains("models: small"))
            #expect(message.contains("provider of: local"))
        }
    }

    @Test func unknownEndpointAndWrongMethodGetEnvelopes() async throws {
        try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
            let missing = try await gateway.send(.GET, "/v1/nothing")
            #expect(missing.status == 404)
            #expect(missing.error["code"] as? String == "unknown_url")
            let wrongMethod = try await gateway.send(.GET, "/v1/chat/completions")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.error["type"] as? String == "invalid_request_error")
        }
    }

    @Test func masterKeyIsRequiredWhenConfigured() async throws {
        let yaml = Self.yaml + "\nauth: {master_key: \"${GW_KEY}\"}\n"
        let upstream = FakeUpstream()
        try await withGateway(upstreams: [upstream], yaml: yaml, environment: ["GW_KEY": "sk-gateway-master"]) { gateway in
            let missing = try await gateway.chat("small")
            #expect(missing.status == 401)
            #expect(missing.error["code"] as? String == "invalid_api_key")
            #expect(!missing.body.contains("sk-gateway-master"))
            let wrong = try await gateway.send(
                body: #"{"model":"small","messages":[{"role":"user","content":"x"}]}"#,
                headers: [("authorization", "Bearer sk-gateway-mastex")]
            )
            #expect(wrong.status == 401)
            let bearer = try await gateway.send(
                body: #"{"model":"small","messages":[{"role":"user","content":"x"}]}"#,
                headers: [("authorization", "Bearer sk-gateway-master")]
            )
            #expect(bearer.status == 200)
            let apiKey = try await gateway.send(.GET, "/v1/models", headers: [("x-api-key", "sk-gateway-master")])
            #expect(apiKey.status == 200)
            let health = try await gateway.send(.GET, "/health")
            #expect(health.status == 200, "liveness needs no key")
            #expect(upstream.requests.filter { $0.path.hasSuffix("/chat/completions") }.count == 1)
            #expect(upstream.requests.allSatisfy { $0.headers[.authorization] == nil }, "the gateway's key is not forwarded")
        }
    }
}
