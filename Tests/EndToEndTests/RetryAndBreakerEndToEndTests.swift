import Foundation
import MultiProdigyResilience
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyRouting
@testable import MultiProdigyServer

extension OneSuiteAtATime {
    /// Retries, Retry-After and circuit breakers through the real server, against fakes that inject
    /// the faults; what each fake received, and when, is the proof.
    @Suite struct RetryAndBreakerEndToEndTests {
        private static let ok = FakeBehaviour.respond(status: .ok, body: FakeUpstream.completion())
        private static let rateLimited =
            #"{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}}"#
        private static let overloaded = #"{"error":{"message":"The server is overloaded","type":"server_error"}}"#

        /// Route `r`: `first` on a raw upstream at `port` (``ResettingUpstream``), then `second` on the
        /// first fake upstream.
        private static func rawFirstYAML(port: Int, extra: String = "") -> String {
            """
            providers:
              a: {type: openai, base_url: "http://127.0.0.1:\(port)/v1", locality: local}
            \(fakeProvider("b", index: 0))
            models:
              first: {provider: a}
              second: {provider: b}
            routes:
              r: {targets: [first, second]}
            \(extra)
            """
        }

        private static func yaml(_ extra: String = "") -> String {
            """
            providers:
            \(fakeProvider("a", index: 0))\(fakeProvider("b", index: 1))
            models:
              first: {provider: a}
              second: {provider: b}
            routes:
              r: {targets: [first, second]}
              only: {targets: [first]}
            \(extra)
            """
        }

        @Test(arguments: [false, true])
        func aShortRetryAfterIsHonouredOnTheSameTarget(stream: Bool) async throws {
            let a = FakeUpstream(FakeUpstream.answer)
            a.script([.respondWithHeaders(status: .tooManyRequests, headers: [("retry-after", "1")], body: Self.rateLimited)])
            let b = FakeUpstream()
            try await withGateway(upstreams: [a, b], yaml: Self.yaml()) { gateway in
                let started = ContinuousClock.now
                let reply = try await gateway.chat("r", stream: stream)
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "first")
                #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "2")
                #expect(ContinuousClock.now - started >= .seconds(1), "waited as asked")
                #expect(a.requests.count == 2 && b.requests.isEmpty)
            }
        }

        @Test(arguments: [false, true])
        func aLongRetryAfterFailsOverAtOnce(stream: Bool) async throws {
            let a = FakeUpstream(.respondWithHeaders(status: .tooManyRequests, headers: [("retry-after", "60")], body: Self.rateLimited))
            let b = FakeUpstream(FakeUpstream.answer)
            try await withGateway(upstreams: [a, b], yaml: Self.yaml()) { gateway in
                let started = ContinuousClock.now
                let reply = try await gateway.chat("r", stream: stream)
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
                // Half the 60 s it asked for: a gateway that honoured it would take all of it, while a
                // busy machine adds seconds (15 s at worst seen).
                #expect(ContinuousClock.now - started < .seconds(30))
                #expect(a.requests.count == 1)
            }
        }

        @Test func retryAfterMillisecondsAndHTTPDatesAreRead() async throws {
            let a = FakeUpstream(Self.ok)
            a.script([.respondWithHeaders(status: .tooManyRequests, headers: [("retry-after-ms", "300")], body: Self.rateLimited)])
            let b = FakeUpstream()
            try await withGateway(upstreams: [a, b], yaml: Self.yaml()) { gateway in
                let started = ContinuousClock.now
                let reply = try await gateway.chat("r")
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "first")
                #expect(ContinuousClock.now - started >= .milliseconds(300))
            }
            let far = FakeUpstream(
                .respondWithHeaders(
                    status: .tooManyRequests,
                    headers: [("retry-after", "Fri, 31 Dec 2100 23:59:59 GMT")],
                    body: Self.rateLimited
                )
            )
            let spare = FakeUpstream(Self.ok)
            try await withGateway(upstreams: [far, spare], yaml: Self.yaml()) { gateway in
                let reply = try await gateway.chat("r")
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
                #expect(far.requests.count == 1)
            }
        }

        @Test(arguments: [false, true])
        func a429WithoutRetryAfterGetsTwoAttemptsWithBackoffThenFailsOver(stream: Bool) async throws {
            let a = FakeUpstream(.respond(status: .tooManyRequests, body: Self.rateLimited))
            let b = FakeUpstream(FakeUpstream.answer)
            try await withGateway(upstreams: [a, b], yaml: Self.yaml("resilience: {retry: {max_attempts_per_target: 5}}")) { gateway in
                let started = ContinuousClock.now
                let reply = try await gateway.chat("r", stream: stream)
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
                #expect(a.requests.count == 2, "never more than two attempts on a rate-limited target")
                #expect(ContinuousClock.now - started >= .milliseconds(250), "a jittered backoff came between them")
            }
        }

        @Test func a500OnceThenHealthyIsRetriedOnTheSameTarget() async throws {
            for stream in [false, true] {
                let a = FakeUpstream(stream ? .stream(events: FakeUpstream.stream(["ok"])) : Self.ok)
                a.script([.respond(status: .internalServerError, body: #"{"error":{"message":"boom"}}"#)])
                let b = FakeUpstream()
                try await withGateway(upstreams: [a, b], yaml: Self.yaml()) { gateway in
                    let reply = try await gateway.chat("r", stream: stream)
                    #expect(reply.status == 200)
                    #expect(reply.headers.first(name: "x-multiprodigy-model") == "first")
                    #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "2")
                    #expect(b.requests.isEmpty)
                }
            }
        }

        @Test(arguments: [false, true])
        func aPersistent503IsTriedBoundedTimesAndTheClientGetsItsOwnError(stream: Bool) async throws {
            let a = FakeUpstream(.respond(status: .serviceUnavailable, body: Self.overloaded))
            try await withGateway(upstreams: [a, FakeUpstream()], yaml: Self.yaml()) { gateway in
                let reply = try await gateway.chat("only", stream: stream)
                #expect(reply.status == 503)
                #expect((reply.error["message"] as? String)?.hasPrefix("The server is overloaded") == true)
                #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "2")
                #expect(a.requests.count == 2)
            }
        }

        @Test(arguments: [false, true])
        func aConnectionResetBeforeHeadersIsRetried(stream: Bool) async throws {
            let resetting = ResettingUpstream(
                resets: 1,
                answer: stream ? ResettingUpstream.streamResponse() : ResettingUpstream.completionResponse()
            )
            let b = FakeUpstream()
            try await withService({ onPort in try await resetting.run(onPort: onPort) }) { port in
                try await withGateway(upstreams: [b], yaml: Self.rawFirstYAML(port: port)) { gateway in
                    let reply = try await gateway.chat("r", stream: stream)
                    #expect(reply.status == 200)
                    #expect(reply.headers.first(name: "x-multiprodigy-model") == "first")
                    #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "2")
                    #expect(b.requests.isEmpty)
                }
            }
            #expect(resetting.requests == 2)
        }

        /// How a target goes silent and then closes, in ``aTargetSilentThenClosingIsATimeoutAndNotRetried(_:)``.
        struct SilentClose: Sendable, CustomTestStringConvertible {
            /// Whether the client asks for a stream.
            var stream: Bool
            /// Whether the target sends its response head before going silent.
            var head: Bool
            /// Whether the model is `non_streaming: direct` (asked for the whole answer).
            var direct = false
            var testDescription: String { "stream: \(stream), head: \(head), direct: \(direct)" }
        }

        /// Issue 19: a target that says nothing for longer than the silence threshold (2 s) and then
        /// closes the connection is a silent target, not a reset, whether or not it sent its head
        /// first: a timeout, not retried on that target, the next target asked at once, and counted
        /// as `timeout` in the metrics and once by the breaker.
        @Test(arguments: [
            SilentClose(stream: false, head: false), SilentClose(stream: true, head: false),
            SilentClose(stream: false, head: true), SilentClose(stream: true, head: true),
            SilentClose(stream: false, head: false, direct: true), SilentClose(stream: false, head: true, direct: true),
        ])
        func aTargetSilentThenClosingIsATimeoutAndNotRetried(_ silentClose: SilentClose) async throws {
            // An assembled non-streaming call asks for a stream too: only a direct one gets a JSON head.
            let head = silentClose.direct ? ResettingUpstream.jsonHead : ResettingUpstream.streamHead
            let silent = ResettingUpstream(
                resets: 3,
                answer: ResettingUpstream.completionResponse(),
                silence: .seconds(3),
                headFirst: silentClose.head ? head : nil
            )
            let b = FakeUpstream(silentClose.stream ? .stream(events: FakeUpstream.stream(["ok"])) : Self.ok)
            try await withService({ onPort in try await silent.run(onPort: onPort) }) { port in
                var yaml = Self.rawFirstYAML(
                    port: port,
                    extra: "resilience: {timeouts: {first_byte: 30s, first_token: 30s, total: 60s}, retry: {max_attempts_per_target: 3}}"
                )
                if silentClose.direct {
                    yaml = yaml.replacingOccurrences(of: "first: {provider: a}", with: "first: {provider: a, non_streaming: direct}")
                }
                try await withGateway(upstreams: [b], yaml: yaml) { gateway in
                    let reply = try await gateway.chat("r", stream: silentClose.stream)
                    #expect(reply.status == 200)
                    #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
                    #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "2", "one attempt at the silent target")
                    // The close ended the wait (first_byte and first_token are 30 s), and the next
                    // target was asked at once: no backoff, no retry (well within 2 s of it, on a
                    // machine however busy).
                    let closed = try #require(silent.silentlyClosedAt)
                    let asked = try #require(b.requests.first?.receivedAt)
                    #expect(asked - closed < .seconds(2), "\(asked - closed)")
                    let metrics = try await gateway.send(.GET, "/metrics")
                    #expect(
                        metrics.body.contains(#"multiprodigy_upstream_errors_total{provider="a",model="first",kind="timeout"} 1"#),
                        "\(metrics.body)"
                    )
                    #expect(metrics.body.contains(#"multiprodigy_upstream_errors_total{provider="a",model="first",kind="connection"} 0"#))
                    let breakers = try await gateway.send(.GET, "/admin/breakers").json["breakers"] as? [[String: Any]] ?? []
                    #expect(breakers.first { $0["target"] as? String == "a/first" }?["consecutive_failures"] as? Int == 1)
                }
            }
            #expect(silent.requests == 1)
        }

        @Test func aSilentTargetIsNotRetriedAndTheWholeCallStaysInItsBudget() async throws {
            let silent = FakeUpstream(.hang)
            let b = FakeUpstream(.stream(events: FakeUpstream.stream(["ok"])))
            // first_byte applies to the next target too: 3 s is time enough on a machine however busy.
            let extra = "resilience: {timeouts: {first_byte: 3s, total: 30s}, retry: {max_attempts_per_target: 3}}"
            try await withGateway(upstreams: [silent, b], yaml: Self.yaml(extra)) { gateway in
                let started = ContinuousClock.now
                let reply = try await gateway.chat("r", stream: true)
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
                #expect(silent.requests.count == 1, "a silent target is not asked again")
                // The configured total, which a call that overran its budget would have reached.
                #expect(ContinuousClock.now - started < .seconds(30))
            }
        }

        @Test(arguments: [true, false])
        func aSilentDirectTargetOfANonStreamingCallLeavesTimeForTheNext(tls: Bool) async throws {
            let silent = FakeUpstream(.hang)
            let b = FakeUpstream(Self.ok)
            // Half of a 10 s budget for the first target leaves the second 5 s, however busy the machine.
            let extra = "resilience: {timeouts: {first_byte: 300ms, total: 10s}}"
            // A `direct` model is asked for the whole answer, so its silence looks like a long generation.
            let yaml = Self.yaml(extra).replacingOccurrences(
                of: "first: {provider: a}",
                with: "first: {provider: a, non_streaming: direct}"
            )
            try await withGateway(upstreams: [silent, b], yaml: yaml, tlsUpstreams: tls) { gateway in
                let started = ContinuousClock.now
                let reply = try await gateway.chat("r")
                let elapsed = ContinuousClock.now - started
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
                #expect(silent.requests.count == 1, "a silent target is not asked again")
                // Half of the 10 s budget for the first of two targets: not its 300 ms first_byte (too
                // short), nor the whole budget, which would have left the second nothing (no 200). No
                // upper bound on the time: a busy machine may stretch it, and the 200 proves the rest.
                #expect(elapsed >= .milliseconds(4900), "\(elapsed)")
            }
        }

        @Test func theAttemptDeadlineSharesWhatIsLeftOfTheBudget() {
            let now = ContinuousClock.now
            let targets = ["a", "b", "c"].map {
                PlannedTarget(
                    target: RouteTarget(name: $0, providerName: $0, upstreamModel: $0),
                    locality: .local,
                    estimatedCostUSD: 0,
                    predictedLatency: nil,
                    placement: .listed(position: 1)
                )
            }
            let plan = RoutePlan(requestedName: "r", routeName: "r", entries: targets, timeouts: TimeoutSettings())
            let total = now + .seconds(90)
            let deadline = { (name: String, firstByte: Duration) in
                FailoverExecutor.attemptDeadline(
                    for: RouteTarget(name: name, providerName: name, upstreamModel: name),
                    in: plan,
                    firstByte: firstByte,
                    totalDeadline: total,
                    now: now
                )
            }
            #expect(deadline("a", .seconds(1)) == now + .seconds(30))
            #expect(deadline("b", .seconds(1)) == now + .seconds(45))
            #expect(deadline("c", .seconds(1)) == total)
            #expect(deadline("a", .seconds(40)) == now + .seconds(40), "at least first_byte")
            #expect(deadline("a", .seconds(200)) == total, "never past total")
        }

        @Test func theBreakerOpensSendsTrafficToTheFallbackAndClosesAfterARecoveredProbe() async throws {
            let primary = FakeUpstream(.respond(status: .internalServerError, body: #"{"error":{"message":"down"}}"#))
            let fallback = FakeUpstream(Self.ok)
            let yaml = """
                providers:
                \(fakeProvider("a", index: 0, locality: "cloud"))\(fakeProvider("b", index: 1))
                models:
                  primary: {provider: a}
                  backup: {provider: b}
                routes:
                  r: {targets: [primary], fallback: [backup]}
                resilience: {breaker: {failure_threshold: 3, cooldown: 4s}}
                """
            try await withGateway(upstreams: [primary, fallback], yaml: yaml) { gateway in
                // Two requests: 2 + 1 failed attempts on the primary open its breaker, during the second.
                #expect(try await gateway.chat("r").headers.first(name: "x-multiprodigy-model") == "backup")
                let beforeOpening = ContinuousClock.now
                #expect(try await gateway.chat("r").headers.first(name: "x-multiprodigy-model") == "backup")
                let opened = ContinuousClock.now
                #expect(primary.requests.count == 3)
                // While it is open (the 4 s cooldown: time for what follows on a busy machine), the
                // primary gets nothing and the fallback answers at once.
                for _ in 0..<5 {
                    let reply = try await gateway.chat("r")
                    #expect(reply.headers.first(name: "x-multiprodigy-model") == "backup")
                    #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "1")
                    #expect(reply.headers.first(name: "x-multiprodigy-route")?.contains("excluded=1") == true)
                }
                #expect(primary.requests.count == 3)
                let admin = try await gateway.send(.GET, "/admin/breakers")
                let breakers = admin.json["breakers"] as? [[String: Any]] ?? []
                #expect(breakers.first { $0["target"] as? String == "a/primary" }?["state"] as? String == "open")
                #expect(breakers.first { $0["target"] as? String == "a/primary" }?["gauge"] as? Int == 2)
                let metrics = try await gateway.send(.GET, "/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.body.contains(#"multiprodigy_breaker_state{provider="a",model="primary"} 2"#), "\(metrics.body)")
                #expect(metrics.body.contains(#"multiprodigy_breaker_state{provider="b",model="backup"} 0"#), "\(metrics.body)")

                // The primary recovers; after the cooldown one probe finds out and traffic returns.
                #expect(ContinuousClock.now - beforeOpening < .seconds(4), "checked while the breaker was surely open")
                primary.script(Array(repeating: Self.ok, count: 20))
                try await Task.sleep(until: opened + .milliseconds(4100), clock: .continuous)
                var served: [String] = []
                for _ in 0..<4 { served.append(try await gateway.chat("r").headers.first(name: "x-multiprodigy-model") ?? "") }
                #expect(served == ["primary", "primary", "primary", "primary"])
                let closed = try await gateway.send(.GET, "/admin/breakers")
                #expect((closed.json["breakers"] as? [[String: Any]])?.first?["state"] as? String == "closed")
                let closedMetrics = try await gateway.send(.GET, "/metrics")
                #expect(closedMetrics.body.contains(#"multiprodigy_breaker_state{provider="a",model="primary"} 0"#))
                #expect(closedMetrics.body.contains(#"multiprodigy_inflight_requests{provider="a"} 0"#))
            }
        }

        @Test func adminEndpointsNeedTheMasterKey() async throws {
            let yaml = Self.yaml("auth: {master_key: sekret}")
            try await withGateway(upstreams: [FakeUpstream(), FakeUpstream()], yaml: yaml) { gateway in
                let refused = try await gateway.send(.GET, "/admin/breakers")
                #expect(refused.status == 401)
                let allowed = try await gateway.send(.GET, "/admin/breakers", headers: [("authorization", "Bearer sekret")])
                #expect(allowed.status == 200)
            }
        }
    }
}

/// The suite by its own name, for the other tests that use its helpers.
typealias RetryAndBreakerEndToEndTests = OneSuiteAtATime.RetryAndBreakerEndToEndTests
