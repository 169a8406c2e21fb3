import Foundation
import Testing

/// `GET /v1/models`, `/health` and `/ready`.
@Suite struct EndpointTests {
    @Test func modelsListsRoutesThenDeclaredModelsInOpenAIsFormat() async throws {
        let yaml = """
            providers:
            \(fakeProvider("local", index: 0))
            models:
              small: {provider: local}
              big: {provider: local, model: upstream-big}
            routes:
              auto: {policy: ordered, targets: [small, big]}
            """
        try await withGateway(upstreams: [FakeUpstream()], yaml: yaml) { gateway in
            let reply = try await gateway.send(.GET, "/v1/models")
            #expect(reply.status == 200)
            #expect(reply.json["object"] as? String == "list")
            let data = try #require(reply.json["data"] as? [[String: Any]])
            #expect(data.map { $0["id"] as? String } == ["auto", "small", "big"])
            #expect(data.allSatisfy { $0["object"] as? String == "model" && $0["created"] is Int })
            #expect(data.map { $0["owned_by"] as? String } == ["multiprodigy", "local", "local"])
            let one = try await gateway.send(.GET, "/v1/models/big")
            #expect(one.json["id"] as? String == "big")
            let slashed = try await gateway.send(.GET, "/v1/models/local/anything")
            #expect(slashed.json["id"] as? String == "local/anything")
            let missing = try await gateway.send(.GET, "/v1/models/none")
            #expect(missing.status == 404)
            #expect(missing.error["code"] as? String == "model_not_found")
        }
    }

    @Test func healthAndReadyWithAnEnabledProvider() async throws {
        let yaml = "providers:\n" + fakeProvider("local", index: 0)
        try await withGateway(upstreams: [FakeUpstream()], yaml: yaml) { gateway in
            #expect(try await gateway.send(.GET, "/health").json["status"] as? String == "ok")
            let ready = try await gateway.send(.GET, "/ready")
            #expect(ready.status == 200)
            #expect(ready.json["providers_enabled"] as? [String] == ["local"])
        }
    }

    @Test func readyIs503WhenEveryProviderIsDisabled() async throws {
        let yaml = """
            providers:
              openai: {type: openai, api_key: "${NOT_SET_KEY}"}
            models:
              gpt: {provider: openai}
            """
        try await withGateway(upstreams: [], yaml: yaml) { gateway in
            let ready = try await gateway.send(.GET, "/ready")
            #expect(ready.status == 503)
            #expect((ready.error["message"] as? String)?.contains("NOT_SET_KEY is not set") == true)
            #expect(try await gateway.send(.GET, "/health").status == 200)
            let chat = try await gateway.chat("gpt")
            #expect(chat.status == 503)
            #expect((chat.error["message"] as? String)?.contains("NOT_SET_KEY is not set") == true)
        }
    }
}
