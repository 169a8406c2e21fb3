import Foundation
import Testing

@testable import MultiProdigyAccounting

/// A cut stream whose next target cannot continue it (it does not support a prefill, or refuses one
/// with a 400) is asked of that target again, without a prefill, and spliced: the new answer is
/// withheld until it has reproduced the text the client has, then only the rest is relayed. At the
/// first divergence the new upstream call is stopped and the stream ends in band.
@Suite struct StreamSpliceTests {
    typealias Wire = StreamContinuationTests

    /// The cut answer's first target, then `b` (no continuation declared) on the second fake.
    static let yaml = Wire.openAIPlain

    /// The whole answer again, split at other places than the cut one, with usage.
    static let restarted = FakeBehaviour.stream(events: [
        Wire.role(id: "second", created: 200), Wire.text("Hel", id: "second", created: 200), Wire.text("lo w", id: "second", created: 200),
        Wire.text("orld", id: "second", created: 200), Wire.text("!", id: "second", created: 200), Wire.finish(id: "second"),
        #"{"id":"second","object":"chat.completion.chunk","created":200,"model":"up","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}}"#,
    ])

    /// Runs `body` against a gateway on `yaml` with a ledger of its own (its models priced at 1 and
    /// 2 dollars per million tokens), then, once the gateway has stopped, returns each ledger row's
    /// status, tokens, cost and path.
    static func withLedger(
        upstreams: [FakeUpstream],
        yaml: String,
        _ body: (GatewayClient) async throws -> Void
    ) async throws -> [[String: Any]] {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent("mp-splice-\(UUID().uuidString).db").path
        defer {
            for suffix in ["", "-wal", "-shm", "-usage-journal"] { try? FileManager.default.removeItem(atPath: storage + suffix) }
        }
        let priced = yaml.replacingOccurrences(of: "model: up-", with: "price: {input: 1, output: 2}, model: up-")
        #expect(priced != yaml)
        try await withGateway(upstreams: upstreams, yaml: priced + "\nstorage: sqlite:\(storage)\n", body)
        let database = try await GatewayDatabase.open(path: storage)
        return try await database.sqlitePool!.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT json_object('status', status, 'prompt_tokens', prompt_tokens, 'completion_tokens', completion_tokens,
                        'cost_usd', cost_usd, 'path', json(COALESCE(path, '[]'))) FROM usage
                    """
            )
        }.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] }
    }

    @Test func aTargetThatReproducesTheAnswerIsSplicedOn() async throws {
        let first = FakeUpstream(Wire.cutAnswer)
        let second = FakeUpstream(Self.restarted)
        let rows = try await Self.withLedger(upstreams: [first, second, FakeUpstream()], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("r", stream: true, extra: #","stream_options":{"include_usage":true}"#)
            #expect(reply.status == 200)
            // The client sees the answer once, whole, ended as a complete stream.
            #expect(Wire.text(of: reply.events) == "Hello world!")
            #expect(reply.events.last == "[DONE]")
            #expect(reply.body.contains(#""finish_reason":"stop""#))
            #expect(!reply.body.contains("stream_interrupted"))
            // Every chunk keeps the first stream's id and model.
            #expect(!reply.body.contains(#""id":"second""#))
            #expect(!reply.body.contains(#""model":"b""#))
            // The second target was asked the client's request itself, without a prefill.
            #expect(second.requests.count == 1)
            #expect(Wire.messages(second).last?["role"] as? String == "user")
            // Both calls are billed: the first's estimate and the second's whole answer (5 tokens).
            let usageEvent = try #require(reply.events.dropLast().last)
            let usage = try #require(
                (try JSONSerialization.jsonObject(with: Data(usageEvent.utf8)) as? [String: Any])?["usage"] as? [String: Any]
            )
            #expect((usage["completion_tokens"] as? Int ?? 0) > 5)
            let metrics = PrometheusText(try await gateway.send(.GET, "/metrics").body)
            #expect(metrics.value("multiprodigy_continuations_total", ["route": "r", "target": "second/up-b", "outcome": "spliced"]) == 1)
            #expect((metrics.value("multiprodigy_tokens_total", ["provider": "second", "direction": "output"]) ?? 0) == 5)
        }
        // The ledger bills both attempts: the cut one's estimate and the spliced one's 5 tokens,
        // priced, with the path that says so.
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row["status"] as? Int == 200)
        #expect((row["completion_tokens"] as? Int ?? 0) > 5, "\(row)")
        #expect((row["prompt_tokens"] as? Int ?? 0) > 9, "both calls paid for the prompt: \(row)")
        let cost = try #require(row["cost_usd"] as? Double)
        #expect(cost >= Double(row["completion_tokens"] as? Int ?? 0) * 2 / 1e6 - 1e-12, "\(row)")
        #expect(row["path"] as? [String] == ["a:cut_protocol", "b:ok"], "\(row)")
    }

    @Test func aTargetThatDivergesIsStoppedWithinAChunkAndTheStreamEndsInBand() async throws {
        let first = FakeUpstream(Wire.cutAnswer)
        // A different answer, one chunk every 300 ms, for as long as the gateway reads it.
        let second = FakeUpstream(.endlessStream(event: Wire.text("Hello there", id: "second"), interval: .milliseconds(300)))
        let rows = try await Self.withLedger(upstreams: [first, second, FakeUpstream()], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            let ended = ContinuousClock.now
            #expect(reply.status == 200)
            #expect(Wire.text(of: reply.events) == "Hello wor", "nothing of the divergent answer reached the client")
            #expect(!reply.events.contains("[DONE]"))
            let last = try #require(reply.events.last)
            #expect(last.contains(#""code":"stream_interrupted""#))
            #expect(last.contains("departed from the text already sent"))
            #expect(last.contains("The answer from a was interrupted"), "it names the original failure")
            try await waitFor(limit: .seconds(5)) { second.disconnects == 1 }
            #expect(second.disconnects == 1)
            #expect(ContinuousClock.now - ended < .seconds(2))
            // The divergent chunk, and at most the one the upstream was writing as it was stopped.
            #expect(second.endlessEventsWritten <= 2, "\(second.endlessEventsWritten) events")
            let metrics = PrometheusText(try await gateway.send(.GET, "/metrics").body)
            #expect(metrics.value("multiprodigy_continuations_total", ["route": "r", "target": "second/up-b", "outcome": "diverged"]) == 1)
            // The divergent attempt is billed for what it wrote.
            #expect((metrics.value("multiprodigy_tokens_total", ["provider": "second", "direction": "output"]) ?? 0) > 0)
        }
        // In the ledger too: one row, the cut answer's and the divergent call's tokens, priced.
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect((row["completion_tokens"] as? Int ?? 0) > 2, "\(row)")
        #expect((row["cost_usd"] as? Double ?? 0) > 0, "\(row)")
        #expect(row["path"] as? [String] == ["a:cut_protocol", "b:diverged"], "\(row)")
    }

    @Test func aTargetRefusingThePrefillIsAskedAgainWithoutItAndSpliced() async throws {
        let first = FakeUpstream(Wire.cutAnswer)
        let second = FakeUpstream()
        second.script([
            .respond(
                status: .badRequest,
                body: #"{"error":{"message":"This model does not support assistant message prefill.","type":"invalid_request_error"}}"#
            ),
            Self.restarted,
        ])
        let rows = try await Self.withLedger(upstreams: [first, second, FakeUpstream()], yaml: Wire.openAIContinuing) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(Wire.text(of: reply.events) == "Hello world!")
            #expect(reply.events.last == "[DONE]")
            #expect(!reply.body.contains("prefill"), "the prefill's 400 never reaches the client")
            #expect(second.requests.count == 2)
            #expect(Wire.messages(second, 0).last?["role"] as? String == "assistant")
            #expect(Wire.messages(second, 1).last?["role"] as? String == "user")
            let metrics = PrometheusText(try await gateway.send(.GET, "/metrics").body)
            let labels = ["route": "r", "target": "second/up-b"]
            #expect(metrics.value("multiprodigy_continuations_total", labels.merging(["outcome": "prefill_rejected"]) { $1 }) == 1)
            #expect(metrics.value("multiprodigy_continuations_total", labels.merging(["outcome": "spliced"]) { $1 }) == 1)
        }
        // The refused prefill is named as such in the request's path, not as a client error.
        #expect(rows.first?["path"] as? [String] == ["a:cut_protocol", "b:prefill_rejected", "b:ok"], "\(rows)")
    }

    @Test func aPrefillingTargetLaterInThePlanIsPreferredToASplice() async throws {
        // `b` cannot continue, `c` can: `c` finishes the answer from the prefill, `b` is not asked.
        let first = FakeUpstream(Wire.cutAnswer)
        let second = FakeUpstream(Self.restarted)
        let third = FakeUpstream(Wire.rest)
        try await withGateway(upstreams: [first, second, third], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("r3", stream: true)
            #expect(Wire.text(of: reply.events) == "Hello world!")
            #expect(reply.events.last == "[DONE]")
            #expect(second.requests.isEmpty)
            #expect(Wire.messages(third).last?["content"] as? String == "Hello wor")
        }
    }
}
