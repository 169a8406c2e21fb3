import Foundation
import NIOCore
import Testing

/// The Responses and Messages APIs get chat's routing: privacy (personal data fails closed, the
/// `multiprodigy` field and headers), `/v1/route` explanations, metrics with their `api` label.
@Suite struct FrontDoorAPIRoutingTests {
    /// The fakes speak chat only: Responses requests go through it.
    static let translate = "{responses_api: translate}"
    static let yaml = """
        providers:
        \(fakeProvider("cloud-p", index: 0, locality: "cloud", options: translate))\(fakeProvider("local-p", index: 1, options: translate))
        models:
          gpt: {provider: cloud-p, price: {input: 0.15, output: 0.6}}
          llama: {provider: local-p}
        routes:
          auto: {policy: cost, targets: [gpt], fallback: [llama]}
          cloud-only: {policy: ordered, targets: [gpt]}
        """

    @Test(arguments: ["responses", "messages"])
    func personalDataStaysLocalAndFailsClosedWithoutALocalTarget(api: String) async throws {
        let cloud = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        let local = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [cloud, local], yaml: Self.yaml) { gateway in
            func send(_ model: String, _ text: String, extra: String = "") async throws -> GatewayClient.Reply {
                let body =
                    api == "responses"
                    ? #"{"model":"\#(model)","input":"\#(text)"\#(extra)}"#
                    : #"{"model":"\#(model)","max_tokens":20,"messages":[{"role":"user","content":"\#(text)"}]\#(extra)}"#
                return try await gateway.send(.POST, "/v1/\(api)", body: body)
            }
            let plain = try await send("auto", "Summarise Hamlet.")
            #expect(plain.status == 200)
            #expect(plain.headers.first(name: "x-multiprodigy-model") == "gpt")
            let personal = try await send("auto", "Forward this to maria.lopez@example.org before noon.")
            #expect(personal.status == 200)
            #expect(personal.headers.first(name: "x-multiprodigy-model") == "llama")
            let asked = try await send("auto", "Nothing special.", extra: #","multiprodigy":{"privacy":"local"}"#)
            #expect(asked.headers.first(name: "x-multiprodigy-model") == "llama")
            let refused = try await send("cloud-only", "Her SSN is 123-45-6789.")
            // Refused as chat refuses it: no target may take it.
            #expect(refused.status == 503)
            if api == "responses" {
                #expect(refused.error["code"] as? String == "no_private_target")
            } else {
                #expect(refused.json["type"] as? String == "error")
            }
            #expect(cloud.requests.count == 1, "only the plain request reached the cloud")
            #expect(
                !cloud.requests.contains {
                    String(buffer: $0.body).contains("maria.lopez") || String(buffer: $0.body).contains("123-45-6789")
                }
            )
            #expect(local.requests.count == 2)
        }
    }

    @Test func routeExplainsResponsesAndMessagesBodies() async throws {
        try await withGateway(upstreams: [FakeUpstream(), FakeUpstream()], yaml: Self.yaml) { gateway in
            let responses = try await gateway.send(
                .POST,
                "/v1/route",
                body: #"{"model":"auto","input":"Hello there","max_output_tokens":100}"#
            )
            #expect(responses.status == 200)
            #expect((responses.json["plan"] as? [[String: Any]])?.map { $0["target"] as? String } == ["gpt", "llama"])
            // Blocks that chat does not accept: planned as a Messages request.
            let messagesBody = #"""
                {"model":"auto","max_tokens":50,"messages":[{"role":"user","content":"Weather?"},
                 {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"w","input":{}}]},
                 {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"sunny at bob@example.com"}]}]}
                """#
            let messages = try await gateway.send(.POST, "/v1/route", body: messagesBody)
            #expect(messages.status == 200, "\(messages.body)")
            #expect(messages.json["private"] as? Bool == true, "the tool result's e-mail address makes it private")
            #expect((messages.json["plan"] as? [[String: Any]])?.map { $0["target"] as? String } == ["llama"])
            let explicit = try await gateway.send(.POST, "/v1/route?api=messages", body: messagesBody)
            #expect(explicit.status == 200)
            let wrongAPI = try await gateway.send(.POST, "/v1/route?api=nope", body: messagesBody)
            #expect(wrongAPI.status == 400)
            #expect(wrongAPI.error["param"] as? String == "api")
        }
    }

    @Test func metricsAndTheLedgerNameEachAPI() async throws {
        let cloud = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [cloud, FakeUpstream()], yaml: Self.yaml) { gateway in
            #expect(try await gateway.chat("cloud-only").status == 200)
            #expect(try await gateway.send(.POST, "/v1/responses", body: #"{"model":"cloud-only","input":"hi"}"#).status == 200)
            let messages = #"{"model":"cloud-only","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}"#
            #expect(try await gateway.send(.POST, "/v1/messages", body: messages).status == 200)
            #expect(try await gateway.send(.POST, "/v1/messages", body: messages).status == 200)
            #expect(try await gateway.send(.POST, "/v1/messages", body: "{").status == 400)
            let metrics = PrometheusText(try await gateway.send(.GET, "/metrics").body)
            #expect(metrics.value("multiprodigy_requests_total", ["api": "chat", "route": "cloud-only", "status": "2xx"]) == 1)
            #expect(metrics.value("multiprodigy_requests_total", ["api": "responses", "route": "cloud-only", "status": "2xx"]) == 1)
            #expect(metrics.value("multiprodigy_requests_total", ["api": "messages", "route": "cloud-only", "status": "2xx"]) == 2)
            #expect(metrics.value("multiprodigy_requests_total", ["api": "messages", "status": "4xx"]) == 1)
        }
    }
}
