import Testing

/// A target whose provider cannot serve a request as asked is skipped, not fatal to the route.
@Suite struct CapabilityFailoverTests {
    static let yaml = """
        providers:
          olla: {type: ollama, base_url: "http://127.0.0.1:{PORT0}", locality: local}
          oai: {type: openai, base_url: "http://127.0.0.1:{PORT1}/v1", locality: local}
        models:
          llama: {provider: olla, model: llama3.2}
          small: {provider: oai, model: upstream-small}
        routes:
          auto: {policy: ordered, targets: [llama, small]}
        """

    @Test func aRefusedFeatureMovesTheRequestToTheNextTarget() async throws {
        let ollama = FakeUpstream()
        let openai = FakeUpstream()
        try await withGateway(upstreams: [ollama, openai], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("auto", extra: #","n":2"#)
            #expect(reply.status == 200)
            #expect(reply.json["model"] as? String == "small")
            #expect(ollama.requests.isEmpty, "Ollama cannot answer n > 1, so it is not called")
            #expect(openai.requests.count == 1)
        }
    }

    @Test func whenNoTargetCanTheClientSeesTheRefusal() async throws {
        try await withGateway(upstreams: [FakeUpstream(), FakeUpstream()], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("llama", extra: #","n":2"#)
            #expect(reply.status == 400)
            #expect(reply.error["code"] as? String == "unsupported_parameter")
            #expect(reply.error["param"] as? String == "n")
        }
    }

    @Test func malformedInputIsTheClientsAndStopsTheRoute() async throws {
        let openai = FakeUpstream()
        try await withGateway(upstreams: [FakeUpstream(), openai], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(
                body:
                    #"{"model":"auto","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{not json"}}]}]}"#
            )
            #expect(reply.status == 400)
            #expect(openai.requests.isEmpty, "another target would reject the same request")
        }
    }
}
