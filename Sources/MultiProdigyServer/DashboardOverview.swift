import Foundation
import MultiProdigyAccounting
import MultiProdigyJSON

/// The dashboard's overview of a time window, computed from usage ledger rows: totals, a time series and a
/// table per route, model, provider and key, each with its request rate, error rate, latency and time to first
/// token percentiles, tokens and spend.
///
/// Counts, tokens and spend come from the ledger's exact totals; the series, the tables, the percentiles and
/// the failover and continuation counts from the newest ``maximumRows`` rows of the window (all of them
/// unless the window holds more, which the answer's `sampled_rows` then says). `since_start` is this replica's
/// own: what its request, failover and continuation counters in `/metrics` add up to. A row without a model or a
/// provider is grouped as `-`, one without a key (an open gateway) as `none`: the names the filters take.
struct DashboardOverview {
    /// A window the overview covers.
    enum Window: String, CaseIterable, Sendable {
        case quarterHour = "15m"
        case day = "24h"
        case week = "7d"

        /// Its length.
        var seconds: Double {
            switch self {
            case .quarterHour: 900
            case .day: 86_400
            case .week: 604_800
            }
        }

        /// The length of each point of its series: 30 points for 15 minutes, 48 for a day, 42 for a week.
        var bucketSeconds: Double {
            switch self {
            case .quarterHour: 30
            case .day: 1800
            case .week: 14_400
            }
        }
    }

    /// The most rows read for the series, the tables and the percentiles.
    static let maximumRows = 50_000

    /// What one group of rows adds up to.
    struct Tally {
        var requests = 0
        var errors = 0
        var tokens = 0
        var costUSD = 0.0
        var latencies: [Double] = []
        var firstTokens: [Double] = []

        /// Counts `record` in.
        mutating func add(_ record: UsageRecord) {
            requests += 1
            if record.status >= 400 { errors += 1 }
            tokens += record.promptTokens + record.completionTokens
            costUSD += record.costUSD
            latencies.append(record.latencySeconds)
            if let ttft = record.timeToFirstTokenSeconds { firstTokens.append(ttft) }
        }
    }

    /// The overview of `window` ending at `now`, from `rows` (newest first) and the window's exact `totals`.
    static func json(
        rows: [LedgerRow],
        totals: LedgerTotals,
        window: Window,
        now: Date,
        sinceStart: GatewayMetrics.SinceStart? = nil
    ) -> JSONValue {
        let end = now.timeIntervalSince1970
        let start = end - window.seconds
        let bucketCount = Int((window.seconds / window.bucketSeconds).rounded())
        var buckets = Array(repeating: Tally(), count: bucketCount)
        var all = Tally()
        var groups: [String: [String: Tally]] = ["route": [:], "model": [:], "provider": [:], "key": [:]]
        var failovers = 0
        var continuations = 0
        for row in rows {
            let record = row.record
            all.add(record)
            let index = min(bucketCount - 1, max(0, Int((record.time.timeIntervalSince1970 - start) / window.bucketSeconds)))
            buckets[index].add(record)
            groups["route", default: [:]][record.route, default: Tally()].add(record)
            groups["model", default: [:]][record.model ?? LedgerQuery.missing, default: Tally()].add(record)
            groups["provider", default: [:]][record.provider ?? LedgerQuery.missing, default: Tally()].add(record)
            groups["key", default: [:]][record.keyName ?? LedgerQuery.noKey, default: Tally()].add(record)
            let path = record.path ?? []
            if Self.failedOver(path) { failovers += 1 }
            if Self.continued(path) { continuations += 1 }
        }
        // When the window holds more rows than were read, the buckets older than the oldest row read are unknown,
        // not empty.
        let sampled = rows.count < totals.requests
        let knownSince = sampled ? rows.map(\.record.time.timeIntervalSince1970).min() ?? end : start
        let series: [JSONValue] = buckets.enumerated().map { index, tally in
            let bucketEnd = start + Double(index + 1) * window.bucketSeconds
            guard bucketEnd > knownSince else {
                return ["t": .double(start + Double(index) * window.bucketSeconds), "requests": .null, "errors": .null]
            }
            let latency = percentiles(tally.latencies, 0.5, 0.95)
            return [
                "t": .double(start + Double(index) * window.bucketSeconds),
                "requests": .integer(tally.requests),
                "errors": .integer(tally.errors),
                "latency_p50": latency[0],
                "latency_p95": latency[1],
                "ttft_p50": percentiles(tally.firstTokens, 0.5)[0],
                "tokens": .integer(tally.tokens),
                "cost_usd": .double(tally.costUSD),
            ]
        }
        var by = JSONObject()
        for dimension in ["route", "model", "provider", "key"] {
            let rows = (groups[dimension] ?? [:]).sorted { ($0.value.requests, $1.key) > ($1.value.requests, $0.key) }
            by[dimension] = .array(
                rows.map { name, tally in
                    let latency = percentiles(tally.latencies, 0.5, 0.95)
                    return [
                        "name": .string(name),
                        "requests": .integer(tally.requests),
                        "errors": .integer(tally.errors),
                        "error_rate": .double(ratio(tally.errors, tally.requests)),
                        "latency_p50": latency[0],
                        "latency_p95": latency[1],
                        "tokens": .integer(tally.tokens),
                        "cost_usd": .double(tally.costUSD),
                    ]
                }
            )
        }
        let allLatency = percentiles(all.latencies, 0.5, 0.95)
        let allFirstToken = percentiles(all.firstTokens, 0.5, 0.95)
        var overview: JSONValue = [
            "window": .string(window.rawValue),
            "window_seconds": .double(window.seconds),
            "from": .double(start),
            "to": .double(end),
            "bucket_seconds": .double(window.bucketSeconds),
            "totals": [
                "requests": .integer(totals.requests),
                "errors": .integer(totals.errors),
                "error_rate": .double(ratio(totals.errors, totals.requests)),
                "requests_per_second": .double(Double(totals.requests) / window.seconds),
                "latency_p50": allLatency[0],
                "latency_p95": allLatency[1],
                "ttft_p50": allFirstToken[0],
                "ttft_p95": allFirstToken[1],
                "prompt_tokens": .integer(totals.promptTokens),
                "completion_tokens": .integer(totals.completionTokens),
                "tokens": .integer(totals.promptTokens + totals.completionTokens),
                "cost_usd": .double(totals.costUSD),
                "failovers": .integer(failovers),
                "continuations": .integer(continuations),
            ],
            "series": .array(series),
            "by": .object(by),
        ]
        if sampled { overview["sampled_rows"] = .integer(rows.count) }
        if let sinceStart {
            overview["since_start"] = [
                "requests": .integer(sinceStart.requests),
                "failovers": .integer(sinceStart.failovers),
                "continuations": .integer(sinceStart.continuations),
            ]
        }
        return overview
    }

    /// Whether a path tried more than one target (a last `…+N` step, which names none, aside).
    static func failedOver(_ path: [String]) -> Bool {
        let targets = path.filter { $0.contains(":") }.map(target(of:))
        guard let first = targets.first else { return false }
        return targets.contains { $0 != first }
    }

    /// Whether a path has a stream cut after it had started (`cut_…`) followed by another attempt.
    static func continued(_ path: [String]) -> Bool {
        guard let cut = path.firstIndex(where: { outcome(of: $0).hasPrefix("cut_") }) else { return false }
        return cut < path.count - 1
    }

    /// The target of a path step (`target:outcome`; a target's name may itself hold colons).
    static func target(of step: String) -> Substring {
        guard let colon = step.lastIndex(of: ":") else { return Substring(step) }
        return step[..<colon]
    }

    /// The outcome of a path step.
    static func outcome(of step: String) -> Substring {
        guard let colon = step.lastIndex(of: ":") else { return "" }
        return step[step.index(after: colon)...]
    }

    /// The nearest-rank value of `values` at each of `quantiles`, in order, from one sort; nulls without values.
    static func percentiles(_ values: [Double], _ quantiles: Double...) -> [JSONValue] {
        guard !values.isEmpty else { return quantiles.map { _ in .null } }
        let sorted = values.sorted()
        return quantiles.map { quantile in
            let rank = Int((quantile * Double(sorted.count)).rounded(.up))
            return .double(sorted[min(sorted.count, max(1, rank)) - 1])
        }
    }

    private static func ratio(_ part: Int, _ whole: Int) -> Double {
        whole == 0 ? 0 : Double(part) / Double(whole)
    }
}
