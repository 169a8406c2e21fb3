import Logging
import NIOCore
import Synchronization
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyCore
@testable import MultiProdigyResilience
@testable import MultiProdigyServer

/// `GET /v1/models` lists what enabled providers offer, as `provider/model`.
@Suite struct ModelDiscoveryTests {
    static let yaml = """
        providers:
          oai: {type: openai, base_url: "http://127.0.0.1:{PORT0}/v1", locality: cloud}
          tgi: {type: huggingface, base_url: "http://127.0.0.1:{PORT1}", locality: local}
          down: {type: openai, base_url: "http://127.0.0.1:{PORT2}/v1", locality: local}
        models:
          mini: {provider: oai, model: gpt-4o-mini}
        routes:
          auto: {policy: ordered, targets: [mini]}
        """

    @Test func discoveredModelsFollowTheConfiguredOnesAndAreCached() async throws {
        let oai = FakeUpstream(
            .raw(
                status: .ok,
                contentType: "application/json",
                body:
                    #"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","owned_by":"openai"},{"id":"o3","object":"model","owned_by":"openai"}]}"#
            )
        )
        let tgi = FakeUpstream(
            .raw(
                status: .ok,
                contentType: "application/json",
                body: #"{"model_id":"meta-llama/Llama-3.1-8B-Instruct","max_input_tokens":8000}"#
            )
        )
        let down = FakeUpstream(.respond(status: .internalServerError, body: "{}"))
        try await withGateway(upstreams: [oai, tgi, down], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.GET, "/v1/models")
            #expect(reply.status == 200)
            let ids = (reply.json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(ids == ["auto", "mini", "oai/gpt-4o-mini", "oai/o3", "tgi/meta-llama/Llama-3.1-8B-Instruct"])
            #expect(oai.requests.first?.path == "/v1/models")
            #expect(tgi.requests.first?.path == "/info")

            _ = try await gateway.send(.GET, "/v1/models")
            #expect(oai.requests.count == 1, "answers are cached")
            #expect(down.requests.count == 1, "a failed ask is not repeated at once")

            let one = try await gateway.send(.GET, "/v1/models/oai/o3")
            #expect(one.status == 200)
            #expect(one.json["owned_by"] as? String == "oai")
        }
    }
}

/// The discovery cache on its own, with providers that misbehave.
@Suite struct ModelDiscoveryBoundsTests {
    /// Answers discovery only when released, ignoring its deadline and cancellation; it releases
    /// itself after `giveUpAfter`, so that a cache that waits for it still ends (with `late`).
    final class StuckProvider: LLMProvider, Sendable {
        private let waiting = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let giveUpAfter: Duration
        init(giveUpAfter: Duration) { self.giveUpAfter = giveUpAfter }
        func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult { throw CancellationError() }
        func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream { throw CancellationError() }
        func discoverModels(deadline: NIODeadline, logger: Logger) async throws -> [String] {
            let giveUpAfter = giveUpAfter
            // Unstructured, so that cancelling the ask does not end the wait early.
            let timer = Task { [weak self] in
                try? await Task.sleep(for: giveUpAfter)
                self?.release()
            }
            await withCheckedContinuation { continuation in waiting.withLock { $0 = continuation } }
            timer.cancel()
            return ["late"]
        }
        func release() {
            waiting.withLock {
                $0?.resume(); $0 = nil
            }
        }
    }

    /// Counts how often it is asked.
    final class CountingProvider: LLMProvider, Sendable {
        let asked = Mutex(0)
        func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult { throw CancellationError() }
        func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream { throw CancellationError() }
        func discoverModels(deadline: NIODeadline, logger: Logger) async throws -> [String] {
            asked.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(50))
            return ["fast-model"]
        }
    }

    @Test func aStuckProviderCannotHoldTheListAndConcurrentCallersShareOneRefresh() async throws {
        let stuck = StuckProvider(giveUpAfter: .seconds(60))
        let counting = CountingProvider()
        let config = ProviderConfig(name: "x", type: "openai", baseURL: "http://127.0.0.1:1")
        let discovery = ModelDiscovery(
            slots: ["stuck": ProviderSlot(config: config, provider: stuck), "quick": ProviderSlot(config: config, provider: counting)],
            logger: Logger(label: "test"),
            askTimeout: .seconds(3)
        )
        let lists = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<5 { group.addTask { await discovery.models().map { "\($0.provider)/\($0.model)" } } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        // Without the 3 s limit on an ask (time for the quick provider on a busy machine), the
        // listing would wait for the stuck provider's 60 s and show its `late` model. No bound on
        // the time: a machine busy with a build beside the suite has taken 15 s for this.
        #expect(lists.allSatisfy { $0 == ["quick/fast-model"] }, "\(lists)")
        #expect(counting.asked.withLock { $0 } == 1, "five concurrent listings, one ask")
        stuck.release()
    }
}
