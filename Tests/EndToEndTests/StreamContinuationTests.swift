import Foundation
import NIOCore
import Testing

@testable import MultiProdigyRouting

/// A stream cut or stalled mid-answer is finished by a later target that continues a prefilled
/// assistant message, or ends with an in-band error, never `[DONE]`.
@Suite struct StreamContinuationTests {
    static func chunk(id: String, created: Int, _ delta: String, finish: String = "null") -> String {
        #"{"id":"\#(id)","object":"chat.completion.chunk","created":\#(created),"model":"up","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(finish)}]}"#
    }

    static func text(_ value: String, id: String = "first", created: Int = 100) -> String {
        chunk(id: id, created: created, #"{"content":"\#(value)"}"#)
    }

    static func role(id: String = "first", created: Int = 100) -> String {
        chunk(id: id, created: created, #"{"role":"assistant","content":""}"#)
    }

    static func finish(id: String) -> String { chunk(id: id, created: 200, "{}", finish: #""stop""#) }

    /// "Hello wor", then the connection closes: no finish_reason, no `[DONE]`.
    static let cutAnswer = FakeBehaviour.stream(events: [role(), text("Hello "), text("wor")], done: false)
    /// The rest of the answer, as an OpenAI-compatible continuation with an id of its own.
    static let rest = FakeBehaviour.stream(events: [
        role(id: "second", created: 200), text("ld!", id: "second", created: 200), finish(id: "second"),
    ])

    static func yaml(second: String, secondModel: String, private: Bool = false) -> String {
        """
        providers:
          first: {type: openai, base_url: "http://127.0.0.1:{PORT0}/v1", locality: local}
          second: \(second)
          third: {type: openai, base_url: "http://127.0.0.1:{PORT2}/v1", locality: local}
        models:
          a: {provider: first, model: up-a}
          b: \(secondModel)
          c: {provider: third, model: up-c, supports: [continuation]}
        routes:
          r: {policy: ordered, targets: [a, b]}
          r3: {policy: ordered, targets: [a, b, c]}
        """
    }

    static let openAIContinuing = yaml(
        second: #"{type: openai, base_url: "http://127.0.0.1:{PORT1}/v1", locality: local}"#,
        secondModel: "{provider: second, model: up-b, supports: [tools, continuation]}"
    )
    static let openAIPlain = yaml(
        second: #"{type: openai, base_url: "http://127.0.0.1:{PORT1}/v1", locality: local}"#,
        secondModel: "{provider: second, model: up-b, supports: [tools]}"
    )
    static let anthropicCloud = yaml(
        second: #"{type: anthropic, base_url: "http://127.0.0.1:{PORT1}", api_key: test-key, locality: cloud}"#,
        secondModel: "{provider: second, model: claude-sonnet-4-5}"
    )

    /// The concatenated `delta.content` of every chunk the client received.
    static func text(of events: [String]) -> String {
        events.compactMap { event -> String? in
            guard let json = (try? JSONSerialization.jsonObject(with: Data(event.utf8))) as? [String: Any],
                let choices = json["choices"] as? [[String: Any]]
            else { return nil }
            return choices.compactMap { ($0["delta"] as? [String: Any])?["content"] as? String }.joined()
        }.joined()
    }

    static func ids(of events: [String]) -> Set<String> {
        Set(
            events.compactMap { event in
                ((try? JSONSerialization.jsonObject(with: Data(event.utf8))) as? [String: Any])?["id"] as? String
            }
        )
    }

    /// The messages an upstream received in its `index`th request.
    static func messages(_ upstream: FakeUpstream, _ index: Int = 0) -> [[String: Any]] {
        guard upstream.requests.count > index else { return [] }
        return upstream.requests[index].json["messages"] as? [[String: Any]] ?? []
    }

    @Test func cutStreamIsContinuedByAnOpenAICompatibleTargetDeclaringContinuation() async throws {
        let first = FakeUpstream(Self.cutAnswer)
        let second = FakeUpstream(Self.rest)
        let third = FakeUpstream()
        try await withGateway(upstreams: [first, second, third], yaml: Self.openAIContinuing) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(reply.status == 200)
            let events = reply.events
            #expect(Self.text(of: events) == "Hello world!")
            #expect(events.last == "[DONE]")
            #expect(!reply.body.contains("stream_interrupted"))
            #expect(Self.ids(of: events) == ["first"], "one stream, one id")
            #expect(!reply.body.contains(#""created":200"#), "created stays the first stream's")
            #expect(events.dropLast().allSatisfy { $0.contains(#""model":"a""#) }, "model stays the target that started")
            #expect(events.filter { $0.contains(#""role":"assistant""#) }.count == 1, "one role announcement")
            #expect(events.dropLast().last?.contains(#""finish_reason":"stop""#) == true)
            let request = try #require(second.requests.first).json
            #expect(request["continue_final_message"] as? Bool == true)
            #expect(request["add_generation_prompt"] as? Bool == false)
            #expect(request["stream"] as? Bool == true)
            #expect(request["model"] as? String == "up-b")
            let last = try #require(Self.messages(second).last)
            #expect(last["role"] as? String == "assistant")
            #expect(last["content"] as? String == "Hello wor")
            #expect(Self.messages(second).count == 2)
        }
    }

    @Test func cutStreamIsContinuedByAnAnthropicTargetWithoutDeclaringIt() async throws {
        typealias A = AnthropicEndToEndTests
        let first = FakeUpstream(Self.cutAnswer)
        let second = FakeUpstream(
            A.sse([A.messageStart, A.textStart, A.textDelta("ld!"), A.textStop, A.messageDelta, A.messageStop])
        )
        try await withGateway(upstreams: [first, second, FakeUpstream()], yaml: Self.anthropicCloud) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(Self.text(of: reply.events) == "Hello world!")
            #expect(reply.events.last == "[DONE]")
            #expect(Self.ids(of: reply.events) == ["first"])
            #expect(reply.events.filter { $0.contains(#""role":"assistant""#) }.count == 1)
            let request = try #require(second.requests.first).json
            #expect(request["continue_final_message"] == nil, "Anthropic prefills natively")
            let messages = request["messages"] as? [[String: Any]] ?? []
            #expect(messages.last?["role"] as? String == "assistant")
            let content = messages.last?["content"]
            let prefill = (content as? String) ?? ((content as? [[String: Any]])?.first?["text"] as? String)
            #expect(prefill == "Hello wor")
        }
    }

    @Test func stalledStreamIsContinued() async throws {
        let first = FakeUpstream(.gatedStream(first: [Self.role(), Self.text("Hello "), Self.text("wor")], gate: Gate(), rest: []))
        let second = FakeUpstream(Self.rest)
        // 3 s: the continuing target's stream must not pause that long either, however busy the machine.
        let yaml = Self.openAIContinuing + "\nresilience:\n  timeouts: {stall: 3s}\n"
        try await withGateway(upstreams: [first, second, FakeUpstream()], yaml: yaml) { gateway in
            let started = ContinuousClock.now
            let reply = try await gateway.chat("r", stream: true)
            // The first upstream never goes on: half of the 60 s or more any other limit (first
            // token, total, the client's own) would take, so the 3 s stall limit moved it.
            #expect(ContinuousClock.now - started < .seconds(30))
            #expect(Self.text(of: reply.events) == "Hello world!")
            #expect(reply.events.last == "[DONE]")
            #expect(Self.messages(second).last?["content"] as? String == "Hello wor")
        }
    }

    @Test func withoutAContinuingTargetTheStreamEndsInBandAndTheGatewayStaysHealthy() async throws {
        let first = FakeUpstream()
        first.script([Self.cutAnswer])
        let second = FakeUpstream(Self.rest)
        // With splicing off, a target that cannot continue is not asked again either.
        let yaml = Self.openAIPlain.replacingOccurrences(
            of: "r: {policy: ordered, targets: [a, b]}",
            with: "r: {policy: ordered, targets: [a, b], resilience: {splice: false}}"
        )
        try await withGateway(upstreams: [first, second, FakeUpstream()], yaml: yaml) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(reply.status == 200)
            #expect(!reply.events.contains("[DONE]"))
            #expect(!reply.body.contains(#""finish_reason":"stop""#))
            let last = try #require(reply.events.last)
            #expect(last.contains(#""code":"stream_interrupted""#))
            #expect(second.requests.isEmpty, "a target that cannot continue is not asked to")
            let next = try await gateway.chat("r")
            #expect(next.status == 200)
            #expect(next.body.contains("Hello from upstream"))
        }
    }

    @Test func continuationTargetRejectingThePrefillEndsInBand() async throws {
        let first = FakeUpstream(Self.cutAnswer)
        let second = FakeUpstream(
            .respond(
                status: .badRequest,
                body:
                    #"{"error":{"message":"continue_final_message is not supported","type":"invalid_request_error","param":null,"code":null}}"#
            )
        )
        try await withGateway(upstreams: [first, second, FakeUpstream()], yaml: Self.openAIContinuing) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(!reply.events.contains("[DONE]"))
            let last = try #require(reply.events.last)
            #expect(last.contains(#""code":"stream_interrupted""#))
            #expect(last.contains("could continue"))
            #expect(!last.contains("continue_final_message"), "the prefill's 400 is not the client's error")
            // The prefill refused, then the request asked again to splice, refused again.
            #expect(second.requests.count == 2)
            #expect(Self.messages(second, 1).last?["role"] as? String == "user")
            #expect(Self.text(of: reply.events) == "Hello wor")
        }
    }

    @Test func rejectedContinuationMovesOnToTheNextContinuingTarget() async throws {
        let first = FakeUpstream(Self.cutAnswer)
        let second = FakeUpstream(
            .respond(status: .badRequest, body: #"{"error":{"message":"no prefill","type":"invalid_request_error"}}"#)
        )
        let third = FakeUpstream(Self.rest)
        try await withGateway(upstreams: [first, second, third], yaml: Self.openAIContinuing) { gateway in
            let reply = try await gateway.chat("r3", stream: true)
            #expect(Self.text(of: reply.events) == "Hello world!")
            #expect(reply.events.last == "[DONE]")
            #expect(Self.messages(third).last?["content"] as? String == "Hello wor")
        }
    }

    @Test func cutContinuationIsContinuedByTheNextTarget() async throws {
        let first = FakeUpstream(Self.cutAnswer)
        let second = FakeUpstream(.stream(events: [Self.role(id: "second"), Self.text("l", id: "second")], done: false))
        let third = FakeUpstream(Self.rest)
        try await withGateway(upstreams: [first, second, third], yaml: Self.openAIContinuing) { gateway in
            let reply = try await gateway.chat("r3", stream: true)
            #expect(Self.text(of: reply.events) == "Hello worlld!")
            #expect(reply.events.last == "[DONE]")
            #expect(Self.messages(second).last?["content"] as? String == "Hello wor")
            #expect(Self.messages(third).last?["content"] as? String == "Hello worl", "the prefill grows with what was sent")
        }
    }

    @Test func privateRequestIsNeverContinuedOnACloudTarget() async throws {
        let first = FakeUpstream(Self.cutAnswer)
        let cloud = FakeUpstream(.respond(status: .ok, body: "{}"))
        try await withGateway(upstreams: [first, cloud, FakeUpstream()], yaml: Self.anthropicCloud) { gateway in
            let reply = try await gateway.chat("r", stream: true, extra: #","multiprodigy":{"privacy":"local"}"#)
            #expect(!reply.events.contains("[DONE]"))
            #expect(reply.events.last?.contains("stream_interrupted") == true)
            #expect(cloud.requests.isEmpty)
        }
    }

    @Test func toolCallStreamIsNotContinued() async throws {
        let toolCall = Self.chunk(
            id: "first",
            created: 100,
            #"{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":"}}]}"#
        )
        let first = FakeUpstream(.stream(events: [Self.role(), toolCall], done: false))
        let second = FakeUpstream(Self.rest)
        try await withGateway(upstreams: [first, second, FakeUpstream()], yaml: Self.openAIContinuing) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(!reply.events.contains("[DONE]"))
            let last = try #require(reply.events.last)
            #expect(last.contains("stream_interrupted"))
            #expect(last.contains("Only text answers can be continued"))
            #expect(second.requests.isEmpty)
        }
    }

    @Test func requestForSeveralChoicesIsNotContinued() async throws {
        let first = FakeUpstream(Self.cutAnswer)
        let second = FakeUpstream(Self.rest)
        try await withGateway(upstreams: [first, second, FakeUpstream()], yaml: Self.openAIContinuing) { gateway in
            let reply = try await gateway.chat("r", stream: true, extra: #","n":2"#)
            #expect(reply.events.last?.contains("stream_interrupted") == true)
            #expect(second.requests.isEmpty)
        }
    }

    @Test func usageChunkCountsBothSegments() async throws {
        let first = FakeUpstream(Self.cutAnswer)
        let usage =
            #"{"id":"second","object":"chat.completion.chunk","created":200,"model":"up","choices":[],"usage":{"prompt_tokens":15,"completion_tokens":2,"total_tokens":17}}"#
        let second = FakeUpstream(
            .stream(events: [Self.text("ld!", id: "second", created: 200), Self.finish(id: "second"), usage])
        )
        try await withGateway(upstreams: [first, second, FakeUpstream()], yaml: Self.openAIContinuing) { gateway in
            let reply = try await gateway.chat("r", stream: true, extra: #","stream_options":{"include_usage":true}"#)
            let events = reply.events
            #expect(events.last == "[DONE]")
            let usageEvent = try #require(events.dropLast().last)
            #expect(usageEvent.contains(#""id":"first""#))
            // The continuation reported 15 + 2; the cut first segment reported nothing and is estimated.
            let object = try #require(try JSONSerialization.jsonObject(with: Data(usageEvent.utf8)) as? [String: Any])
            let counts = try #require(object["usage"] as? [String: Any])
            #expect((counts["prompt_tokens"] as? Int ?? 0) > 15)
            #expect((counts["completion_tokens"] as? Int ?? 0) > 2)
            #expect(counts["estimated"] as? Bool == true)
            #expect((second.requests.first?.json["stream_options"] as? [String: Bool]) == ["include_usage": true])
        }
    }

    @Test func eachTargetIsCountedForItsOwnPartOfAContinuedAnswer() async throws {
        let first = FakeUpstream(Self.cutAnswer)
        let second = FakeUpstream(Self.rest)
        try await withGateway(upstreams: [first, second, FakeUpstream()], yaml: Self.openAIContinuing) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(reply.events.last == "[DONE]")
            let metrics = PrometheusText(try await gateway.send(.GET, "/metrics").body)
            // "Hello wor" came from the first target, "ld!" from the second: each has its own output tokens.
            #expect((metrics.value("multiprodigy_tokens_total", ["provider": "first", "direction": "output"]) ?? 0) > 0)
            #expect((metrics.value("multiprodigy_tokens_total", ["provider": "second", "direction": "output"]) ?? 0) > 0)
            #expect(metrics.value("multiprodigy_requests_total", ["provider": "second", "status": "2xx"]) == 1)
            // The first target's series exist from the start, at zero: the request is counted once.
            #expect(metrics.value("multiprodigy_requests_total", ["provider": "first"]) == 0, "one request, counted once")
        }
    }

    /// `openAIContinuing` with the transcript bound at `bytes`.
    static func bounded(_ bytes: Int, _ yaml: String = openAIContinuing) -> String {
        yaml + "\nserver:\n  max_stream_transcript_bytes: \(bytes)\n"
    }

    /// Ten chunks of ten letters: 100 bytes of text.
    static let tenChunks = (0..<10).map { _ in "abcdefghi " }

    @Test func cutStreamLongerThanTheTranscriptBoundEndsInBandNamingTheBound() async throws {
        let first = FakeUpstream(.stream(events: [Self.role()] + Self.tenChunks.map { Self.text($0) }, done: false))
        let second = FakeUpstream(Self.rest)
        try await withGateway(upstreams: [first, second, FakeUpstream()], yaml: Self.bounded(64)) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(reply.status == 200)
            #expect(Self.text(of: reply.events) == Self.tenChunks.joined(), "the whole answer is relayed")
            #expect(!reply.events.contains("[DONE]"))
            let last = try #require(reply.events.last)
            #expect(last.contains(#""code":"stream_interrupted""#))
            #expect(last.contains("longer than the gateway keeps to continue it"), "\(last)")
            #expect(last.contains("server.max_stream_transcript_bytes, 64B"), "\(last)")
            #expect(second.requests.isEmpty, "no continuation is attempted")
        }
    }

    @Test func cutStreamWithinTheTranscriptBoundIsStillContinued() async throws {
        let first = FakeUpstream(Self.cutAnswer)
        let second = FakeUpstream(Self.rest)
        try await withGateway(upstreams: [first, second, FakeUpstream()], yaml: Self.bounded(9)) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(Self.text(of: reply.events) == "Hello world!")
            #expect(reply.events.last == "[DONE]")
            #expect(Self.messages(second).last?["content"] as? String == "Hello wor", "exactly 9 bytes: kept whole")
        }
    }

    @Test func continuationThatOutgrowsTheBoundIsNotContinuedAgain() async throws {
        // 40 bytes from the first target, 40 more from the continuation, then it is cut too.
        let first = FakeUpstream(.stream(events: [Self.role()] + Self.tenChunks.prefix(4).map { Self.text($0) }, done: false))
        let second = FakeUpstream(
            .stream(events: [Self.role(id: "second")] + Self.tenChunks.prefix(4).map { Self.text($0, id: "second") }, done: false)
        )
        let third = FakeUpstream(Self.rest)
        try await withGateway(upstreams: [first, second, third], yaml: Self.bounded(64)) { gateway in
            let reply = try await gateway.chat("r3", stream: true)
            #expect(Self.text(of: reply.events) == Self.tenChunks.prefix(8).joined())
            #expect(second.requests.count == 1, "40 bytes fit the bound: continued once")
            #expect(third.requests.isEmpty, "80 bytes do not: not continued again")
            let last = try #require(reply.events.last)
            #expect(last.contains("stream_interrupted"))
            #expect(last.contains("server.max_stream_transcript_bytes"))
        }
    }

    @Test func usageOfAStreamPastTheBoundIsEstimatedFromAllItsText() async throws {
        let words = (0..<200).map { " word\($0)" }
        let first = FakeUpstream(.stream(events: [Self.role()] + words.map { Self.text($0) } + [Self.finish(id: "first")]))
        try await withGateway(upstreams: [first, FakeUpstream(), FakeUpstream()], yaml: Self.bounded(64)) { gateway in
            let reply = try await gateway.chat("r", stream: true, extra: #","stream_options":{"include_usage":true}"#)
            #expect(reply.events.last == "[DONE]")
            let usageEvent = try #require(reply.events.dropLast().last)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(usageEvent.utf8)) as? [String: Any])
            let counts = try #require(object["usage"] as? [String: Any])
            var text = words.joined()
            let expected = text.withUTF8 { TokenEstimator.estimateTokens(inText: UnsafeRawBufferPointer($0)) }
            #expect(counts["completion_tokens"] as? Int == expected)
            #expect(counts["estimated"] as? Bool == true)
        }
    }
}
