import Foundation
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyJSON
@testable import MultiProdigyServer

/// ``DashboardOverview``: the overview's figures from literal ledger rows.
@Suite struct DashboardOverviewTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func row(
        _ id: Int64,
        secondsAgo: Double,
        route: String = "fast",
        model: String? = "small",
        status: Int = 200,
        latency: Double = 1,
        ttft: Double? = nil,
        tokens: (Int, Int) = (10, 5),
        cost: Double = 0.5,
        path: [String]? = ["small:ok"]
    ) -> LedgerRow {
        LedgerRow(
            id: id,
            record: UsageRecord(
                time: now.addingTimeInterval(-secondsAgo),
                requestID: "req_\(id)",
                keyName: id.isMultiple(of: 2) ? "team-a" : nil,
                endpoint: "chat",
                route: route,
                provider: "fake",
                model: model,
                promptTokens: tokens.0,
                completionTokens: tokens.1,
                costUSD: cost,
                latencySeconds: latency,
                timeToFirstTokenSeconds: ttft,
                status: status,
                attempts: path?.count ?? 0,
                path: path
            )
        )
    }

    static func number(_ value: JSONValue?) -> Double? { value?.doubleValue }

    @Test func totalsSeriesAndTablesFollowTheRows() throws {
        let rows = [
            Self.row(4, secondsAgo: 10, status: 502, latency: 4, path: ["bad:server", "small:timeout"]),
            Self.row(3, secondsAgo: 20, route: "slow", latency: 3, ttft: 0.5, path: ["flaky:cut_timeout", "small:ok"]),
            Self.row(2, secondsAgo: 400, latency: 2, ttft: 0.25, path: ["bad:server", "bad:server", "small:ok"]),
            Self.row(1, secondsAgo: 890, latency: 1, path: nil),
        ]
        let totals = LedgerTotals(requests: 4, errors: 1, promptTokens: 40, completionTokens: 20, costUSD: 2)
        let overview = DashboardOverview.json(rows: rows, totals: totals, window: .quarterHour, now: Self.now)
        let summary = try #require(overview["totals"])
        #expect(Self.number(summary["requests"]) == 4)
        #expect(Self.number(summary["error_rate"]) == 0.25)
        #expect(Self.number(summary["requests_per_second"]) == 4.0 / 900)
        #expect(Self.number(summary["latency_p50"]) == 2, "nearest rank: the 2nd of 4")
        #expect(Self.number(summary["latency_p95"]) == 4)
        #expect(Self.number(summary["ttft_p50"]) == 0.25)
        #expect(Self.number(summary["tokens"]) == 60)
        #expect(Self.number(summary["failovers"]) == 3, "a retry on one target is not a failover; three rows moved on")
        #expect(Self.number(summary["continuations"]) == 1)
        #expect(overview["sampled_rows"] == nil)

        let series = try #require(overview["series"]?.arrayValue)
        #expect(series.count == 30)
        #expect(series.map { Self.number($0["requests"]) ?? -1 }.enumerated().filter { $0.element > 0 }.map(\.offset) == [0, 16, 29])
        #expect(Self.number(series[29]["requests"]) == 2)
        #expect(Self.number(series[29]["errors"]) == 1)
        #expect(series[1]["latency_p50"] == .null)
        #expect(Self.number(series[0]["t"]) == Self.now.timeIntervalSince1970 - 900)

        let routes = try #require(overview["by"]?["route"]?.arrayValue)
        #expect(routes.map { $0["name"]?.stringValue } == ["fast", "slow"])
        #expect(Self.number(routes[0]["requests"]) == 3)
        #expect(Self.number(routes[0]["errors"]) == 1)
        let keys = try #require(overview["by"]?["key"]?.arrayValue)
        #expect(Set(keys.map { $0["name"]?.stringValue }) == ["none", "team-a"], "a row without a key is `none`, as the filter takes it")
        #expect(overview["since_start"] == nil)
        let withCounters = DashboardOverview.json(
            rows: rows,
            totals: totals,
            window: .quarterHour,
            now: Self.now,
            sinceStart: .init(requests: 7, failovers: 2, continuations: 1)
        )
        #expect(Self.number(withCounters["since_start"]?["requests"]) == 7)
        #expect(Self.number(withCounters["since_start"]?["failovers"]) == 2)
    }

    @Test func aWindowWithMoreRowsThanReadSaysSo() {
        let overview = DashboardOverview.json(
            rows: [Self.row(9, secondsAgo: 5)],
            totals: LedgerTotals(requests: 70_000, errors: 0, promptTokens: 0, completionTokens: 0, costUSD: 0),
            window: .week,
            now: Self.now
        )
        #expect(Self.number(overview["sampled_rows"]) == 1)
        #expect(overview["series"]?.arrayValue?.count == 42)
        #expect(Self.number(overview["bucket_seconds"]) == 14_400)
    }

    @Test func pathStepsSplitOnTheirLastColon() {
        #expect(DashboardOverview.target(of: "llama3:8b:cut_timeout") == "llama3:8b")
        #expect(DashboardOverview.outcome(of: "llama3:8b:cut_timeout") == "cut_timeout")
        #expect(DashboardOverview.failedOver(["a:server", "a:ok"]) == false)
        #expect(DashboardOverview.failedOver(["a:server", "b:ok"]))
        #expect(DashboardOverview.continued(["a:cut_connection"]) == false, "a cut nothing continued")
        #expect(DashboardOverview.continued(["a:cut_connection", "b:diverged"]))
        #expect(DashboardOverview.percentiles([], 0.5, 0.95) == [.null, .null])
        #expect(DashboardOverview.percentiles([3, 1, 2], 0.95) == [.double(3)])
        #expect(DashboardOverview.percentiles([4, 1, 3, 2], 0.5, 0.95) == [.double(2), .double(4)])
    }

    @Test func formsAndEscapes() {
        #expect(
            DashboardForm.formFields("key=mp-a%2Bb+c&csrf=x&key=second&empty=&bare") == [
                "key": "mp-a+b c", "csrf": "x", "empty": "", "bare": "",
            ]
        )
        #expect(DashboardForm.formFields("%zz=1") == [:])
        #expect(DashboardForm.escapeHTML(#"<a href="x">'&'</a>"#) == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
    }

    @Test func failedLoginsPastTheBurstWaitForTheBucketToRefill() {
        let sessions = DashboardSessions()
        let start = ContinuousClock.now
        for _ in 0..<Int(DashboardSessions.loginBurst) {
            #expect(sessions.admitsLogin(now: start))
            sessions.loginFailed()
        }
        #expect(!sessions.admitsLogin(now: start))
        #expect(!sessions.admitsLogin(now: start + .milliseconds(500)))
        #expect(sessions.admitsLogin(now: start + DashboardSessions.loginRefill))
        sessions.loginFailed()
        #expect(!sessions.admitsLogin(now: start + DashboardSessions.loginRefill))
    }

    @Test func aSampledWindowLeavesTheBucketsItDidNotReadUnknown() {
        let overview = DashboardOverview.json(
            rows: [Self.row(9, secondsAgo: 5), Self.row(8, secondsAgo: 100)],
            totals: LedgerTotals(requests: 90_000, errors: 0, promptTokens: 0, completionTokens: 0, costUSD: 0),
            window: .quarterHour,
            now: Self.now
        )
        let series = overview["series"]?.arrayValue ?? []
        #expect(series.prefix(26).allSatisfy { $0["requests"] == .null }, "older than the oldest row read")
        #expect(Self.number(series[26]["requests"]) == 1)
        #expect(Self.number(series[29]["requests"]) == 1)
        #expect(DashboardOverview.failedOver(["a:server", "…+40"]) == false, "the count of dropped steps names no target")
    }

    @Test func sessionsEndWithTheirLifetimeOrTheirMasterKey() {
        let sessions = DashboardSessions()
        let start = ContinuousClock.now
        let opened = sessions.open(masterKey: Array("one".utf8), now: start)
        #expect(opened.token.count == 64 && opened.csrfToken.count == 64 && opened.token != opened.csrfToken)
        #expect(sessions.session(opened.token, masterKey: Array("one".utf8), now: start)?.csrfToken == opened.csrfToken)
        #expect(sessions.session("guess", masterKey: Array("one".utf8), now: start) == nil)
        #expect(sessions.session(opened.token, masterKey: Array("two".utf8), now: start) == nil, "a new master key ends it")
        #expect(sessions.session(opened.token, masterKey: Array("one".utf8), now: start) == nil, "and it stays ended")
        let other = sessions.open(masterKey: Array("one".utf8), now: start)
        #expect(sessions.session(other.token, masterKey: Array("one".utf8), now: start + DashboardSessions.lifetime) == nil)
        // At most the bound: the oldest goes first.
        let first = sessions.open(masterKey: [1], now: start)
        for index in 0..<DashboardSessions.maximumSessions { _ = sessions.open(masterKey: [1], now: start + .seconds(index + 1)) }
        #expect(sessions.session(first.token, masterKey: [1], now: start + .seconds(1)) == nil)
    }
}
