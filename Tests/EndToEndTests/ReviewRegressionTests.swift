import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyProviders
@testable import MultiProdigyResilience
@testable import MultiProdigyRouting

/// Behaviours an independent review found missing; each test fails without its fix.
@Suite struct ReviewRegressionTests {
    static func yaml(_ extra: String = "") -> String {
        """
        providers:
        \(fakeProvider("a", index: 0))\(fakeProvider("b", index: 1))
        models:
          first: {provider: a}
          second: {provider: b}
        routes:
          r: {policy: ordered, targets: [first, second]}
        \(extra)
        """
    }

    /// Sends a request from its own client and abandons it after `after`, once `ready` holds.
    private func abandon(_ gateway: GatewayClient, stream: Bool, after: Duration, once ready: () -> Bool = { true }) async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let task = Task {
            var request = HTTPClientRequest(url: gateway.baseURL + "/v1/chat/completions")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: #"{"model":"r","stream":\#(stream),"messages":[{"role":"user","content":"hi"}]}"#))
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
        }
        try await Task.sleep(for: after)
        // A busy machine may not have sent the request yet.
        try await waitFor(ready)
        task.cancel()
        _ = await task.result
        try? await client.shutdown()
    }

    @Test func clientLeavingBeforeTheFirstTokenCancelsTheUpstreamAndDoesNotFailOver() async throws {
        let a = FakeUpstream(.endlessStream(event: FakeUpstream.roleChunk(), interval: .milliseconds(20)))
        let b = FakeUpstream()
        try await withGateway(upstreams: [a, b], yaml: Self.yaml()) { gateway in
            try await abandon(gateway, stream: true, after: .milliseconds(300), once: { !a.requests.isEmpty })
            try await waitFor { a.disconnects == 1 }
            #expect(a.disconnects == 1, "the upstream request was cancelled")
            try await Task.sleep(for: .milliseconds(200))
            #expect(b.requests.isEmpty, "no failover for a client that is gone")
        }
    }

    @Test func clientLeavingDuringANonStreamingCallCancelsTheUpstream() async throws {
        let a = FakeUpstream(.hangUntilDisconnect)
        let b = FakeUpstream()
        try await withGateway(upstreams: [a, b], yaml: Self.yaml()) { gateway in
            try await abandon(gateway, stream: false, after: .milliseconds(300), once: { !a.requests.isEmpty })
            try await waitFor { a.disconnects == 1 }
            #expect(a.disconnects == 1)
            try await Task.sleep(for: .milliseconds(200))
            #expect(b.requests.isEmpty)
            #expect(try await gateway.send(.GET, "/health").status == 200)
        }
    }

    @Test func doneEndsTheAnswerEvenIfTheUpstreamKeepsTheConnectionOpen() async throws {
        let a = FakeUpstream(.streamThenHold(events: FakeUpstream.stream(["complete"])))
        // A stall limit far above what a busy machine adds to a short stream.
        try await withGateway(upstreams: [a, FakeUpstream()], yaml: Self.yaml("resilience:\n  timeouts: {stall: 50s}")) { gateway in
            let started = ContinuousClock.now
            let reply = try await gateway.chat("first", stream: true)
            #expect(reply.events.last == "[DONE]")
            #expect(!reply.body.contains("stream_interrupted"))
            #expect(ContinuousClock.now - started < .seconds(25), "no wait for the 50 s stall limit")
        }
    }

    /// Both upstream clients: the lean one for plain HTTP, and AsyncHTTPClient, which HTTPS takes.
    @Test(arguments: [true, false])
    func totalBudgetCoversABodyThatTrickles(tls: Bool) async throws {
        // About 50 s of trickle (a byte every 120 ms): far past the 300 ms total.
        let a = FakeUpstream(.trickle(body: FakeUpstream.completion(), interval: .milliseconds(120)))
        let yaml = Self.yaml("resilience:\n  timeouts: {total: 300ms}")
        try await withGateway(upstreams: [a, FakeUpstream()], yaml: yaml, tlsUpstreams: tls) { gateway in
            let started = ContinuousClock.now
            let reply = try await gateway.chat("first")
            #expect(reply.status == 504)
            #expect(reply.error["code"] as? String == "upstream_timeout")
            // Half the trickle's 50 s: the total cut it, not the end of the body.
            #expect(ContinuousClock.now - started < .seconds(25))
        }
    }

    @Test func redirectFromAnUpstreamFailsOverInsteadOfReachingTheClient() async throws {
        let a = FakeUpstream(.respond(status: .movedPermanently, body: ""))
        let b = FakeUpstream()
        try await withGateway(upstreams: [a, b], yaml: Self.yaml()) { gateway in
            let reply = try await gateway.chat("r")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
        }
    }

    @Test func upstreamAuthFailureFailsOverAndNeverEchoesTheUpstreamText() async throws {
        let echo =
            #"{"error":{"message":"Incorrect API key provided: sk-live-SECRET123. Find yours at …","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#
        let a = FakeUpstream(.respond(status: .unauthorized, body: echo))
        try await withGateway(upstreams: [a, FakeUpstream()], yaml: Self.yaml()) { gateway in
            let alone = try await gateway.chat("first")
            #expect(alone.status == 502, "the client's key is not the one that was rejected")
            #expect(alone.error["code"] as? String == "upstream_authentication_failed")
            #expect(!alone.body.contains("SECRET123"))
            let routed = try await gateway.chat("r")
            #expect(routed.status == 200)
            #expect(routed.headers.first(name: "x-multiprodigy-attempts") == "2")
        }
    }

    @Test func routeTimeoutsInheritTheGlobalOnes() throws {
        let config = try ConfigLoader(environment: [:]).load(
            yaml: """
                providers:
                  p: {type: openai, base_url: "http://127.0.0.1:1/v1"}
                models:
                  m: {provider: p}
                routes:
                  r: {targets: [m], resilience: {timeouts: {stall: 10s}}}
                resilience:
                  timeouts: {total: 100s, first_token: 5s}
                """
        )
        let timeouts = try #require(config.route(named: "r")?.timeouts)
        #expect(timeouts.stall == .seconds(10))
        #expect(timeouts.total == .seconds(100))
        #expect(timeouts.firstToken == .seconds(5))
        #expect(ModelResolver(config: config).definition(for: "r")?.timeouts == timeouts)
        #expect(ModelResolver(config: config).definition(for: "m")?.timeouts.total == .seconds(100))
    }

    @Test func hugeDurationsAndSizesAreConfigErrorsNotCrashes() {
        for value in ["1e20s", "3000000h", "400d"] {
            #expect(ConfigValueParsing.duration(value) == nil, "\(value)")
        }
        #expect(ConfigValueParsing.byteSize("1e12GiB") == nil)
        #expect(ConfigValueParsing.byteSize("99999999999999999999") == nil)
        #expect(throws: ConfigError.self) {
            try ConfigLoader(environment: [:]).load(yaml: "resilience:\n  timeouts: {total: 3000000h}\n")
        }
        #expect(Duration.seconds(Int64.max).timeAmount == .nanoseconds(.max))
        #expect(ContinuousClock.now.advanced(by: .seconds(300 * 365 * 86400)).nioDeadline == .distantFuture)
    }

    @Test func apiKeyWithATrailingNewlineIsAConfigError() {
        #expect(throws: ConfigError.self) {
            try ConfigLoader(environment: ["K": "sk-abc\n"]).load(yaml: "providers:\n  p: {type: openai, api_key: \"${K}\"}\n")
        }
    }

    @Test func expiryEndsTheAttemptSoALateChunkCannotCommit() {
        let start = ContinuousClock.now
        var machine = StreamGuardStateMachine(
            limits: .init(firstToken: .seconds(1), stall: .seconds(1), totalDeadline: start.advanced(by: .seconds(10))),
            start: start
        )
        #expect(machine.expire(at: start.advanced(by: .milliseconds(500))) == nil)
        #expect(machine.expire(at: start.advanced(by: .seconds(1))) == .firstToken)
        #expect(machine.chunkReceived(at: start.advanced(by: .seconds(1)), carriesContent: true, finishing: []) == .ignore)
    }
}
