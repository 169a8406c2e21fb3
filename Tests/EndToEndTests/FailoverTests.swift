import Foundation
import Testing

/// `policy: ordered` walks its targets, moving on only after failures nothing reached the client from.
@Suite struct FailoverTests {
    static func yaml(_ extra: String = "") -> String {
        """
        providers:
        \(fakeProvider("a", index: 0))\(fakeProvider("b", index: 1))
          dead: {type: openai, base_url: "http://127.0.0.1:1/v1", locality: local}
          cloud: {type: openai, base_url: "http://127.0.0.1:{PORT1}/v1", api_key: "${MISSING_KEY}"}
        models:
          first: {provider: a}
          second: {provider: b}
          nowhere: {provider: dead}
          keyless: {provider: cloud}
        routes:
          r: {policy: ordered, targets: [first], fallback: [second]}
          refused: {policy: ordered, targets: [nowhere, second]}
          disabled-first: {policy: ordered, targets: [keyless, second]}
          all-bad: {policy: ordered, targets: [nowhere, first]}
        \(extra)
        """
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func serverErrorMovesToTheNextTarget(stream: Bool, tls: Bool) async throws {
        let a = FakeUpstream(
            .respond(status: .internalServerError, body: #"{"error":{"message":"boom","type":"server_error","param":null,"code":null}}"#)
        )
        let b = FakeUpstream(stream ? .stream(events: FakeUpstream.stream(["ok"])) : .respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [a, b], yaml: Self.yaml(), tlsUpstreams: tls) { gateway in
            let reply = try await gateway.chat("r", stream: stream)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "3", "a persistent 500 is tried twice, then the next target")
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
            #expect(reply.headers.first(name: "x-multiprodigy-provider") == "b")
            #expect(a.requests.count == 2)
            #expect(b.requests.count == 1)
            if stream {
                #expect(reply.events.last == "[DONE]")
                #expect(reply.events.dropLast().allSatisfy { $0.contains(#""model":"second""#) })
            } else {
                #expect(reply.json["model"] as? String == "second")
            }
        }
    }

    @Test(arguments: [false, true])
    func connectionRefusedMovesToTheNextTarget(stream: Bool) async throws {
        let a = FakeUpstream()
        let b = FakeUpstream(stream ? .stream(events: FakeUpstream.stream(["ok"])) : .respond(status: .ok, body: FakeUpstream.completion()))
        // A connect timeout far above what a busy machine adds to a failover.
        try await withGateway(upstreams: [a, b], yaml: Self.yaml("resilience:\n  timeouts: {connect: 60s}")) { gateway in
            let started = ContinuousClock.now
            let reply = try await gateway.chat("refused", stream: stream)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
            #expect(ContinuousClock.now - started < .seconds(30), "a refused connection fails fast, not after the 60 s connect timeout")
        }
    }

    @Test func disabledProviderIsSkippedWithoutAnAttempt() async throws {
        let a = FakeUpstream()
        let b = FakeUpstream()
        try await withGateway(upstreams: [a, b], yaml: Self.yaml()) { gateway in
            let reply = try await gateway.chat("disabled-first")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "1")
            #expect(b.requests.count == 1)
        }
    }

    @Test func silentUpstreamTimesOutOnFirstByteAndTheNextTargetAnswers() async throws {
        let a = FakeUpstream(.hang)
        let b = FakeUpstream(.stream(events: FakeUpstream.stream(["ok"])))
        // 3 s: the next target must send its head within it too, on a machine however busy.
        try await withGateway(upstreams: [a, b], yaml: Self.yaml("resilience:\n  timeouts: {first_byte: 3s}")) { gateway in
            let started = ContinuousClock.now
            let reply = try await gateway.chat("r", stream: true)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
            // Half of the 60 s or more that any other limit on this path (first_token, total, the
            // client's own) would take to end the silent attempt.
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }

    @Test func slowFirstTokenMovesOnBeforeAnythingIsSent() async throws {
        let a = FakeUpstream(.gatedStream(first: [FakeUpstream.roleChunk()], gate: Gate(), rest: []))
        let b = FakeUpstream(.stream(events: FakeUpstream.stream(["fast"])))
        // 3 s: the next target must send its first token within it too, on a machine however busy.
        try await withGateway(upstreams: [a, b], yaml: Self.yaml("resilience:\n  timeouts: {first_token: 3s}")) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(reply.status == 200)
            #expect(reply.events.filter { $0.contains(#""role":"assistant""#) }.count == 1, "the first target's role chunk was never sent")
            #expect(reply.events.allSatisfy { !$0.contains(#""model":"first""#) })
            #expect(reply.events.contains { $0.contains("fast") })
        }
    }

    @Test func streamCutBeforeAnyContentFailsOverInvisibly() async throws {
        let a = FakeUpstream(.stream(events: [FakeUpstream.roleChunk()], done: false))
        let b = FakeUpstream(.stream(events: FakeUpstream.stream(["rescued"])))
        try await withGateway(upstreams: [a, b], yaml: Self.yaml()) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(reply.status == 200)
            #expect(reply.events.last == "[DONE]")
            #expect(reply.events.contains { $0.contains("rescued") })
            #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "2")
        }
    }

    @Test func everyTargetFailingNamesEachTargetAndWhy() async throws {
        let a = FakeUpstream(
            .respond(
                status: .serviceUnavailable,
                body: #"{"error":{"message":"The server is overloaded","type":"server_error","param":null,"code":null}}"#
            )
        )
        let b = FakeUpstream()
        try await withGateway(upstreams: [a, b], yaml: Self.yaml()) { gateway in
            let reply = try await gateway.chat("all-bad")
            #expect(reply.status == 503, "the last upstream's own status")
            let message = try #require(reply.error["message"] as? String)
            #expect(message.contains("The server is overloaded"))
            #expect(message.contains("nowhere (dead): connection refused"))
            #expect(message.contains("first (a): HTTP 503"))
            #expect(
                reply.headers.first(name: "x-multiprodigy-attempts") == "3",
                "the 503 is retried once; the dead target is refused at once"
            )
        }
    }

    @Test func onlyUnreachableTargetsGive502() async throws {
        try await withGateway(upstreams: [FakeUpstream(), FakeUpstream()], yaml: Self.yaml()) { gateway in
            let reply = try await gateway.chat("nowhere")
            #expect(reply.status == 502)
            #expect(reply.error["code"] as? String == "upstream_unavailable")
            #expect((reply.error["message"] as? String)?.contains("connection refused") == true)
        }
    }

    @Test func onlyDisabledTargetsGive503SayingWhyWithoutTheSecret() async throws {
        try await withGateway(upstreams: [FakeUpstream(), FakeUpstream()], yaml: Self.yaml()) { gateway in
            let reply = try await gateway.chat("keyless")
            #expect(reply.status == 503)
            #expect(reply.error["code"] as? String == "provider_unavailable")
            #expect((reply.error["message"] as? String)?.contains("MISSING_KEY is not set") == true)
            #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "0")
        }
    }

    @Test func nonStreamingCallStaysInsideTheTotalBudget() async throws {
        let a = FakeUpstream(.hang)
        try await withGateway(upstreams: [a, FakeUpstream()], yaml: Self.yaml("resilience:\n  timeouts: {total: 400ms}")) { gateway in
            let started = ContinuousClock.now
            let reply = try await gateway.chat("first")
            #expect(reply.status == 504)
            #expect(reply.error["code"] as? String == "upstream_timeout")
            // The hang has no other limit (first_byte does not split a lone target's time): half
            // of the client's own 60 s means the 400 ms total ended it, however busy the machine.
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }
}

/// A 400 that says the prompt is too long moves to a target with a larger window; nothing else does.
@Suite struct ContextLengthFailoverTests {
    private static let tooLong = FakeBehaviour.respond(
        status: .badRequest,
        body:
            #"{"error":{"message":"This model's maximum context length is 4096 tokens. However, your messages resulted in 5000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#
    )
    private static let anthropicTooLong = FakeBehaviour.respond(
        status: .badRequest,
        body: #"{"error":{"message":"prompt is too long: 210000 tokens > 200000 maximum","type":"invalid_request_error"}}"#
    )

    @Test(arguments: [false, true])
    func aRefusedPromptGoesToALargerWindowNeverASmallerOne(stream: Bool) async throws {
        let small = FakeUpstream(Self.tooLong)
        let smaller = FakeUpstream(FakeUpstream.answer)
        let medium = FakeUpstream(Self.anthropicTooLong)
        let big = FakeUpstream(FakeUpstream.answer)
        let yaml = """
            providers:
            \(fakeProvider("a", index: 0))\(fakeProvider("b", index: 1))\(fakeProvider("c", index: 2))\(fakeProvider("d", index: 3))
            models:
              small: {provider: a, context: 4096}
              smaller: {provider: b, context: 2048}
              medium: {provider: c, context: 8192}
              big: {provider: d, context: 128000}
            routes:
              r: {targets: [small, smaller, medium, big]}
            """
        try await withGateway(upstreams: [small, smaller, medium, big], yaml: yaml) { gateway in
            let reply = try await gateway.chat("r", stream: stream)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "big")
            #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "3")
            #expect(smaller.requests.isEmpty)
            #expect(small.requests.count == 1 && medium.requests.count == 1)
        }
    }

    @Test(arguments: [false, true])
    func whenNoLargerWindowIsLeftTheProvidersRefusalReachesTheClient(stream: Bool) async throws {
        let big = FakeUpstream(Self.tooLong)
        let small = FakeUpstream(FakeUpstream.answer)
        let yaml = """
            providers:
            \(fakeProvider("a", index: 0))\(fakeProvider("b", index: 1))
            models:
              big: {provider: a, context: 128000}
              small: {provider: b, context: 4096}
            routes:
              r: {targets: [big, small]}
            """
        try await withGateway(upstreams: [big, small], yaml: yaml) { gateway in
            let reply = try await gateway.chat("r", stream: stream)
            #expect(reply.status == 400)
            #expect(reply.error["code"] as? String == "context_length_exceeded")
            #expect((reply.error["message"] as? String)?.hasPrefix("This model's maximum context length is 4096 tokens.") == true)
            #expect(small.requests.isEmpty)
            #expect(big.requests.count == 1)
        }
    }

    @Test(arguments: [false, true])
    func aContentPolicyRefusalIsNotRetriedAndKeepsItsReason(stream: Bool) async throws {
        let strict = FakeUpstream(
            .respond(
                status: .badRequest,
                body:
                    #"{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","code":"content_policy_violation"}}"#
            )
        )
        let other = FakeUpstream()
        let yaml = """
            providers:
            \(fakeProvider("a", index: 0))\(fakeProvider("b", index: 1))
            models:
              strict: {provider: a}
              other: {provider: b}
            routes:
              r: {targets: [strict, other]}
            """
        try await withGateway(upstreams: [strict, other], yaml: yaml) { gateway in
            let reply = try await gateway.chat("r", stream: stream)
            #expect(reply.status == 400)
            #expect(reply.error["code"] as? String == "content_policy_violation")
            #expect(reply.error["message"] as? String == "Your request was rejected as a result of our safety system.")
            #expect(strict.requests.count == 1)
            #expect(other.requests.isEmpty)
        }
    }
}
