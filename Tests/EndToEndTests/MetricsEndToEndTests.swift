import Foundation
import MultiProdigyCore
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyJSON
@testable import MultiProdigyRouting

extension OneSuiteAtATime {
    /// `/metrics` and per-request cost after known traffic through the real server: every number is
    /// worked out from what the fakes answered.
    @Suite struct MetricsEndToEndTests {
        private static let streamWithUsage = [
            FakeUpstream.roleChunk(), FakeUpstream.contentChunk("Hi"), FakeUpstream.finishChunk(), FakeUpstream.usageChunk(),
        ]
        private static let yaml = """
            providers:
            \(fakeProvider("a", index: 0, locality: "cloud"))\(fakeProvider("b", index: 1, locality: "cloud"))
            models:
              first: {provider: a, price: {input: 2, output: 8}}
              second: {provider: b, price: {input: 1, output: 1}}
            routes:
              r: {targets: [first, second]}
            """

        /// 9 prompt and 4 completion tokens at 2 and 8 USD per million.
        private static let completionCost = 0.00005
        /// 9 prompt and 2 completion tokens at 2 and 8 USD per million.
        private static let streamCost = 0.000034

        @Test func metricsCountKnownTraffic() async throws {
            // Non-streaming requests too reach the upstream as streams, whose answers are assembled.
            let a = FakeUpstream(.stream(events: Self.streamWithUsage))
            let b = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
            try await withGateway(upstreams: [a, b], yaml: Self.yaml) { gateway in
                for _ in 0..<3 {
                    let reply = try await gateway.chat("first")
                    #expect(reply.status == 200)
                    #expect(reply.headers.first(name: "x-multiprodigy-cost-usd") == "0.000034")
                    #expect((reply.json["usage"] as? [String: Any])?["cost_usd"] as? Double == Self.streamCost)
                    let overhead = try #require(reply.headers.first(name: "x-multiprodigy-overhead-ms").flatMap(Double.init))
                    #expect(overhead >= 0 && overhead < 1000)
                }

                // A stream whose client asked for usage gets it last, with the cost.
                let asked = try await gateway.chat("first", stream: true, extra: #","stream_options":{"include_usage":true}"#)
                #expect(asked.events.last == "[DONE]")
                let usageEvent = try #require(asked.events.dropLast().last)
                #expect(
                    usageEvent.contains(
                        #""choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"cost_usd":0.000034}"#
                    )
                )
                #expect(usageEvent.contains(#""model":"first""#))

                // One that did not ask gets none, though the gateway asked the upstream for it.
                let unasked = try await gateway.chat("first", stream: true)
                #expect(unasked.events.last == "[DONE]")
                #expect(!unasked.body.contains("usage"))
                let upstreamAsk = try #require(a.requests.last)
                #expect((upstreamAsk.json["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)

                // A failover: "first" fails twice (retried once), "second" answers.
                a.script([.respond(status: .internalServerError, body: "{}"), .respond(status: .internalServerError, body: "{}")])
                let failedOver = try await gateway.chat("r")
                #expect(failedOver.headers.first(name: "x-multiprodigy-model") == "second")
                #expect(failedOver.headers.first(name: "x-multiprodigy-cost-usd") == "0.000013")

                let unknown = try await gateway.chat("no-such-model")
                #expect(unknown.status == 404)

                let scrape = try await gateway.send(.GET, "/metrics")
                #expect(scrape.status == 200)
                let metrics = PrometheusText(scrape.body)
                let first = ["route": "first", "provider": "a", "model": "first"]
                #expect(metrics.value("multiprodigy_requests_total", first.merging(["status": "2xx"]) { $1 }) == 5)
                #expect(
                    metrics.value("multiprodigy_requests_total", ["route": "r", "provider": "b", "model": "second", "status": "2xx"]) == 1
                )
                #expect(metrics.value("multiprodigy_requests_total", ["route": "none", "status": "4xx"]) == 1)
                #expect(metrics.value("multiprodigy_tokens_total", ["provider": "a", "model": "first", "direction": "input"]) == 45)
                #expect(metrics.value("multiprodigy_tokens_total", ["provider": "a", "model": "first", "direction": "output"]) == 10)
                let cost = try #require(metrics.value("multiprodigy_cost_usd_total", ["provider": "a", "model": "first", "key": "none"]))
                #expect(abs(cost - 5 * Self.streamCost) < 1e-12)
                #expect(metrics.value("multiprodigy_request_duration_seconds_count", first) == 5)
                #expect(metrics.value("multiprodigy_time_to_first_token_seconds_count", first) == 2)
                #expect(metrics.value("multiprodigy_gateway_overhead_seconds_count", ["route": "first"]) == 5)
                #expect(
                    metrics.value("multiprodigy_failovers_total", ["route": "r", "from": "a/first", "to": "b/second", "reason": "server"])
                        == 1
                )
                #expect(metrics.value("multiprodigy_upstream_errors_total", ["provider": "a", "model": "first", "kind": "server"]) == 2)
                #expect(metrics.value("multiprodigy_breaker_state", ["provider": "a", "model": "first"]) == 0)
                #expect(metrics.types["multiprodigy_request_duration_seconds"] == "histogram")
                #expect(metrics.types["multiprodigy_requests_total"] == "counter")
                // The slowest bucket is minutes long: LLM calls can take that.
                #expect(metrics.value("multiprodigy_request_duration_seconds_bucket", first.merging(["le": "600.0"]) { $1 }) == 5)
                // Bounded labels: no request ids, no prompts.
                let requestID = try #require(unknown.headers.first(name: "x-multiprodigy-request-id"))
                #expect(!scrape.body.contains(requestID))
                #expect(!scrape.body.contains("\"hi\""))
            }
        }

        @Test func aFreshGatewayReportsEveryConfiguredSeriesAtZeroAndTrafficContinuesThem() async throws {
            let a = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
            let b = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
            try await withGateway(upstreams: [a, b], yaml: Self.yaml) { gateway in
                let scrape = try await gateway.send(.GET, "/metrics")
                #expect(scrape.status == 200)
                let fresh = PrometheusText(scrape.body)
                #expect(fresh.value("multiprodigy_build_info", ["version": GatewayVersion.current]) == 1)
                #expect(fresh.all("multiprodigy_build_info").count == 1)
                // Each route and declared model, with each of its targets, at every status class.
                let pairs = [("r", "a", "first"), ("r", "b", "second"), ("first", "a", "first"), ("second", "b", "second")]
                for (route, provider, model) in pairs {
                    for status in ["2xx", "4xx", "5xx"] {
                        let labels = ["route": route, "provider": provider, "model": model, "status": status]
                        #expect(fresh.value("multiprodigy_requests_total", labels) == 0, "\(labels)")
                    }
                    let series = ["route": route, "provider": provider, "model": model]
                    #expect(fresh.value("multiprodigy_request_duration_seconds_count", series) == 0, "\(series)")
                }
                #expect(fresh.all("multiprodigy_requests_total").count == 4 * 3 + 2, "and route none with 4xx and 5xx")
                #expect(
                    fresh.value("multiprodigy_requests_total", ["route": "none", "provider": "none", "model": "none", "status": "4xx"]) == 0
                )
                #expect(
                    fresh.value("multiprodigy_requests_total", ["route": "none", "provider": "none", "model": "none", "status": "5xx"]) == 0
                )
                for (provider, model) in [("a", "first"), ("b", "second")] {
                    for direction in ["input", "output"] {
                        #expect(
                            fresh.value("multiprodigy_tokens_total", ["provider": provider, "model": model, "direction": direction]) == 0
                        )
                    }
                    // An open gateway: requests without a virtual key are `none`.
                    #expect(fresh.value("multiprodigy_cost_usd_total", ["provider": provider, "model": model, "key": "none"]) == 0)
                    for kind in [
                        "connection", "timeout", "rate_limited", "server", "client", "authentication", "protocol", "unsupported",
                        "malformed_chunk",
                    ] {
                        #expect(
                            fresh.value("multiprodigy_upstream_errors_total", ["provider": provider, "model": model, "kind": kind]) == 0,
                            "\(kind)"
                        )
                    }
                    #expect(fresh.value("multiprodigy_breaker_state", ["provider": provider, "model": model]) == 0)
                    #expect(fresh.value("multiprodigy_inflight_requests", ["provider": provider]) == 0)
                }
                #expect(fresh.all("multiprodigy_upstream_errors_total").count == 2 * 9)
                #expect(fresh.all("multiprodigy_breaker_state").count == 2)

                // Real traffic moves the same series rather than adding new ones.
                #expect(try await gateway.chat("r").status == 200)
                #expect(try await gateway.chat("nothing-by-that-name").status == 404)
                let after = PrometheusText(try await gateway.send(.GET, "/metrics").body)
                #expect(
                    after.value("multiprodigy_requests_total", ["route": "r", "provider": "a", "model": "first", "status": "2xx"]) == 1
                )
                #expect(after.value("multiprodigy_requests_total", ["route": "none", "status": "4xx"]) == 1)
                #expect(after.all("multiprodigy_requests_total").count == 4 * 3 + 2)
                #expect(after.value("multiprodigy_tokens_total", ["provider": "a", "model": "first", "direction": "input"]) == 9)
                for family in ["multiprodigy_requests_total", "multiprodigy_tokens_total", "multiprodigy_upstream_errors_total"] {
                    #expect(after.all(family).count == fresh.all(family).count, "\(family): the same series, none added")
                }
                let cost = try #require(after.value("multiprodigy_cost_usd_total", ["provider": "a", "model": "first", "key": "none"]))
                #expect(abs(cost - Self.completionCost) < 1e-12)
                #expect(after.all("multiprodigy_cost_usd_total").count == 2)
                #expect(after.all("multiprodigy_breaker_state").count == 2)
                #expect(after.all("multiprodigy_inflight_requests").count == 2)
            }
        }

        @Test func aMasterKeyGatewayDeclaresCostUnderMasterAndAReloadAddsNewRoutes() async throws {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).yaml").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let yaml = Self.yaml + "\nauth: {master_key: metrics-master}\n"
            try await withGateway(upstreams: [FakeUpstream(), FakeUpstream()], yaml: yaml, reloadingFrom: path) { gateway in
                let fresh = PrometheusText(try await gateway.send(.GET, "/metrics").body)
                #expect(fresh.value("multiprodigy_cost_usd_total", ["provider": "a", "model": "first", "key": "master"]) == 0)
                #expect(fresh.value("multiprodigy_cost_usd_total", ["key": "none"]) == nil)
                #expect(fresh.value("multiprodigy_requests_total", ["route": "later"]) == nil)

                let written = try String(contentsOfFile: path, encoding: .utf8)
                try written.replacingOccurrences(
                    of: "  r: {targets: [first, second]}",
                    with: "  r: {targets: [first, second]}\n  later: {targets: [second]}"
                )
                .write(toFile: path, atomically: true, encoding: .utf8)
                var reloaded = PrometheusText("")
                for _ in 0..<50 where reloaded.value("multiprodigy_requests_total", ["route": "later"]) == nil {
                    try await Task.sleep(for: .milliseconds(100))
                    reloaded = PrometheusText(try await gateway.send(.GET, "/metrics").body)
                }
                for status in ["2xx", "4xx", "5xx"] {
                    #expect(
                        reloaded.value(
                            "multiprodigy_requests_total",
                            ["route": "later", "provider": "b", "model": "second", "status": status]
                        )
                            == 0
                    )
                }
            }
        }

        @Test func theRealBinaryReportsItsVersionAndZeroSeriesOnItsFirstScrape() async throws {
            let version = try await GatewayProcess(arguments: ["--version"]).runToExit()
            #expect(version.status == 0)
            #expect(version.output.trimmingCharacters(in: .whitespacesAndNewlines) == GatewayVersion.current)
            let yaml: @Sendable (Int) -> String = { port in
                """
                providers:
                  fake: {type: openai, base_url: "http://127.0.0.1:\(port)/v1", locality: local}
                models:
                  small: {provider: fake, model: tiny-1}
                routes:
                  auto: {targets: [small]}
                """
            }
            try await withServingGatewayProcess(upstream: FakeUpstream(), yaml: yaml) { _, gateway in
                let fresh = PrometheusText(try await gateway.send(.GET, "/metrics").body)
                #expect(fresh.value("multiprodigy_build_info", ["version": GatewayVersion.current]) == 1)
                let auto = ["route": "auto", "provider": "fake", "model": "tiny-1", "status": "2xx"]
                #expect(fresh.value("multiprodigy_requests_total", auto) == 0)
                #expect(fresh.value("multiprodigy_breaker_state", ["provider": "fake", "model": "tiny-1"]) == 0)
                #expect(try await gateway.chat("auto").status == 200)
                let after = PrometheusText(try await gateway.send(.GET, "/metrics").body)
                #expect(after.value("multiprodigy_requests_total", auto) == 1)
                #expect(after.all("multiprodigy_requests_total").count == fresh.all("multiprodigy_requests_total").count)
            }
        }

        @Test func malformedChunksAreCountedAsUpstreamErrors() async throws {
            let events = [FakeUpstream.roleChunk(), "{not json", FakeUpstream.contentChunk("Hi"), FakeUpstream.finishChunk()]
            let a = FakeUpstream(.stream(events: events))
            try await withGateway(upstreams: [a, FakeUpstream()], yaml: Self.yaml) { gateway in
                let reply = try await gateway.chat("first", stream: true)
                #expect(reply.events.last == "[DONE]")
                let metrics = PrometheusText(try await gateway.send(.GET, "/metrics").body)
                #expect(metrics.value("multiprodigy_upstream_errors_total", ["provider": "a", "kind": "malformed_chunk"]) == 1)
                // No usage came back: the stream is still priced, from an estimate.
                #expect((metrics.value("multiprodigy_cost_usd_total", ["provider": "a"]) ?? 0) > 0)
            }
        }

        @Test func aClientThatAskedForUsageGetsAnEstimateWhenTheUpstreamSentNone() async throws {
            let a = FakeUpstream(.stream(events: FakeUpstream.stream(["Hello", " there"])))
            try await withGateway(upstreams: [a, FakeUpstream()], yaml: Self.yaml) { gateway in
                let reply = try await gateway.chat("first", stream: true, extra: #","stream_options":{"include_usage":true}"#)
                #expect(reply.events.last == "[DONE]")
                let usage = try #require(reply.events.dropLast().last)
                #expect(usage.contains(#""choices":[],"usage":{"prompt_tokens":"#))
                #expect(usage.contains(#""estimated":true"#))
                #expect(usage.contains(#""cost_usd":"#))
                #expect(usage.contains(#""id":"c1""#) && usage.contains(#""model":"first""#))
            }
        }

        @Test func aServerThatRefusesStreamOptionsIsNotSentThem() async throws {
            let yaml = """
                providers:
                  strict: {type: openai, base_url: "http://127.0.0.1:{PORT0}/v1", locality: local, options: {stream_usage: "false"}}
                models:
                  m: {provider: strict}
                """
            let upstream = FakeUpstream(.stream(events: FakeUpstream.stream(["Hi"])))
            try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
                let reply = try await gateway.chat("m", stream: true)
                #expect(reply.events.last == "[DONE]")
                #expect(upstream.requests.first?.json["stream_options"] == nil)
                let metrics = PrometheusText(try await gateway.send(.GET, "/metrics").body)
                #expect((metrics.value("multiprodigy_tokens_total", ["model": "m", "direction": "output"]) ?? 0) > 0, "estimated")
            }
        }

        @Test func labelSetsAreBoundedWhateverModelsClientsName() {
            let metrics = GatewayMetrics(maximumSeries: 3)
            for index in 0..<10 {
                metrics.record(
                    RequestOutcome(
                        route: "p/m\(index)",
                        target: RouteTarget(name: "p/m\(index)", providerName: "p", upstreamModel: "m\(index)"),
                        status: 200,
                        duration: .milliseconds(5),
                        keyName: "none"
                    )
                )
            }
            let text = PrometheusText(String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self))
            let series = text.all("multiprodigy_requests_total")
            #expect(series.count == 4, "three distinct series, then one for everything else")
            #expect(text.value("multiprodigy_requests_total", ["route": "(other)", "model": "(other)"]) == 7)
            #expect(text.value("multiprodigy_requests_total") == 10)
            // Another family has its own allowance, and a key is never folded away.
            for index in 0..<5 {
                metrics.recordUpstreamError(RouteTarget(name: "p/x\(index)", providerName: "p", upstreamModel: "x\(index)"), kind: "server")
            }
            metrics.record(
                RequestOutcome(
                    route: "r",
                    target: RouteTarget(name: "p/y", providerName: "p", upstreamModel: "y"),
                    status: 200,
                    duration: .milliseconds(5),
                    costUSD: 1,
                    keyName: "team-z"
                )
            )
            let after = PrometheusText(String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self))
            #expect(after.all("multiprodigy_upstream_errors_total").count == 4)
            #expect(after.value("multiprodigy_cost_usd_total", ["key": "team-z"]) == 1)
        }
    }
}

/// The suite by its own name, for the other tests that use its helpers.
typealias MetricsEndToEndTests = OneSuiteAtATime.MetricsEndToEndTests
