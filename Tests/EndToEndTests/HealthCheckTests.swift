import Testing

@testable import MultiProdigyCore
@testable import MultiProdigyResilience

/// Active health checks of local providers: a dead local backend is known before a request needs it.
@Suite struct HealthCheckTests {
    static let yaml = """
        providers:
          olla: {type: ollama, base_url: "http://127.0.0.1:{PORT0}", locality: local}
          tgi: {type: huggingface, base_url: "http://127.0.0.1:{PORT1}", locality: local}
        models:
          llama: {provider: olla, model: llama3.2, non_streaming: direct}
          mistral: {provider: tgi, model: tgi, non_streaming: direct}
        routes:
          auto: {policy: ordered, targets: [llama, mistral]}
        resilience:
          health_check: {interval: 100ms}
        """

    static let ollamaAnswer =
        #"{"model":"llama3.2","message":{"role":"assistant","content":"from ollama"},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1}"#

    @Test func aLocalProviderFailingItsHealthCheckIsSkippedAndReadyReportsIt() async throws {
        let ollama = FakeUpstream(
            .byPath(
                [
                    (
                        prefix: "/api/tags",
                        behaviour: FakeBehaviourBox(
                            .raw(status: .internalServerError, contentType: "application/json", body: #"{"error":"broken"}"#)
                        )
                    )
                ],
                otherwise: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: Self.ollamaAnswer))
            )
        )
        let tgi = FakeUpstream(
            .byPath(
                [
                    (prefix: "/health", behaviour: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: ""))),
                    (
                        prefix: "/info",
                        behaviour: FakeBehaviourBox(
                            .raw(status: .ok, contentType: "application/json", body: #"{"model_id":"m","max_input_tokens":4096}"#)
                        )
                    ),
                ],
                otherwise: FakeBehaviourBox(.respond(status: .ok, body: FakeUpstream.completion()))
            )
        )
        try await withGateway(upstreams: [ollama, tgi], yaml: Self.yaml, healthChecks: true) { gateway in
            // A second round of probes starts only after the first has been recorded.
            try await waitFor {
                ollama.requests.filter { $0.path == "/api/tags" }.count >= 2 && tgi.requests.filter { $0.path == "/info" }.count >= 2
            }
            let reply = try await gateway.chat("auto")
            #expect(reply.status == 200)
            #expect(reply.json["model"] as? String == "mistral", "the dead local target is skipped")
            #expect(!ollama.requests.contains { $0.path == "/api/chat" })

            let direct = try await gateway.chat("llama")
            #expect(direct.status == 200, "a plan with no healthy target still tries it: the probe may be stale")

            let ready = try await gateway.send(.GET, "/ready")
            #expect(ready.status == 200)
            #expect((ready.json["providers_down"] as? [String: Any])?["olla"] != nil)
        }
    }

    @Test func theProviderBoardReportsOnlyFailedChecks() {
        let board = ProviderHealthBoard()
        #expect(board.downReason(for: "a") == nil)
        board.record(ProviderProbe(isHealthy: false, detail: "connection refused"), for: "a")
        #expect(board.downReason(for: "a") == "connection refused")
        let previous = board.record(ProviderProbe(isHealthy: true, maxInputTokens: 8000), for: "a")
        #expect(previous?.isHealthy == false)
        #expect(board.downReason(for: "a") == nil)
        #expect(board.probe(for: "a")?.maxInputTokens == 8000)
    }

    @Test func aPromptLongerThanTheInputLimitTGIReportsSkipsIt() async throws {
        let yaml = """
            providers:
              tgi: {type: huggingface, base_url: "http://127.0.0.1:{PORT0}", locality: local}
              oai: {type: openai, base_url: "http://127.0.0.1:{PORT1}/v1", locality: local}
            models:
              mistral: {provider: tgi, model: tgi, non_streaming: direct}
              other: {provider: oai, model: other-upstream, non_streaming: direct}
            routes:
              auto: {policy: ordered, targets: [mistral, other]}
            resilience:
              health_check: {interval: 100ms}
            """
        let tgi = FakeUpstream(
            .byPath(
                [
                    (prefix: "/health", behaviour: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: ""))),
                    (
                        prefix: "/info",
                        behaviour: FakeBehaviourBox(
                            .raw(status: .ok, contentType: "application/json", body: #"{"model_id":"m","max_input_tokens":50}"#)
                        )
                    ),
                ],
                otherwise: FakeBehaviourBox(.respond(status: .ok, body: FakeUpstream.completion()))
            )
        )
        let other = FakeUpstream()
        try await withGateway(upstreams: [tgi, other], yaml: yaml, healthChecks: true) { gateway in
            // A second round of probes starts only after the first has been recorded.
            try await waitFor { tgi.requests.filter { $0.path == "/info" }.count >= 2 }
            let long = String(repeating: "lorem ipsum ", count: 100)
            let body = #"{"model":"auto","messages":[{"role":"user","content":"\#(long)"}]}"#
            let routed = try await gateway.send(body: body)
            #expect(routed.status == 200)
            #expect(routed.json["model"] as? String == "other")
            #expect(!tgi.requests.contains { $0.path == "/v1/chat/completions" })

            let direct = try await gateway.send(body: body.replacingOccurrences(of: #""model":"auto""#, with: #""model":"mistral""#))
            #expect(direct.status == 400)
            #expect(direct.error["code"] as? String == "context_length_exceeded")

            let short = try await gateway.chat("mistral")
            #expect(short.status == 200, "a short prompt still goes to TGI")
        }
    }
}
