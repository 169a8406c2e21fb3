import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import Prometheus
import Synchronization

/// The gateway's Prometheus metrics, served at `GET /metrics` in the text exposition format.
///
/// Label sets are bounded: route, provider and model names from the configuration, status class,
/// error kind and key name; never prompts or request ids. A client can still name any model of a
/// configured provider (`provider/model`), so past ``maximumSeries`` distinct label sets in one
/// metric family, the labels a client chooses (`route`, `model`, `from`, `to`, `target`) of new ones are
/// counted as `(other)`; the others (provider, key, status, kind) are kept. Breaker gauges past
/// the limit are not exported.
///
/// The handles of each label set are made once and cached, so recording a request costs a
/// dictionary lookup and a few atomic adds. State kept elsewhere (circuit breakers, in-flight
/// counts) is read when the endpoint is scraped.
///
/// ``declare(routes:providers:keyName:)`` makes the series of every configured route, target and
/// provider at zero before any traffic, so a fresh or idle gateway reports 0, not "no data"; real
/// traffic then continues the same series, since they carry the same labels.
///
/// | metric | labels |
/// |---|---|
/// | `multiprodigy_requests_total` | api (`chat`, `responses`, `messages`, `embeddings`), route, provider, model, status (`2xx`, `4xx`, `5xx`) |
/// | `multiprodigy_request_duration_seconds` | api, route, provider, model |
/// | `multiprodigy_time_to_first_token_seconds` | api, route, provider, model (streams) |
/// | `multiprodigy_gateway_overhead_seconds` | route |
/// | `multiprodigy_tokens_total` | provider, model, direction (`input`, `output`) |
/// | `multiprodigy_cost_usd_total` | provider, model, key |
/// | `multiprodigy_failovers_total` | route, from, to, reason |
/// | `multiprodigy_continuations_total` | route, target, outcome (`prefilled`, `prefill_rejected`, `spliced`, `diverged`) |
/// | `multiprodigy_upstream_errors_total` | provider, model, kind |
/// | `multiprodigy_rejected_requests_total` | key, reason (`budget_exceeded`, `rate_limit_rpm`, `rate_limit_tpm`, `storage_unavailable`) |
/// | `multiprodigy_breaker_state` | provider, model (0 closed, 1 half-open, 2 open) |
/// | `multiprodigy_key_budget_used_ratio` | key: spent in the budget's current period ÷ budget |
/// | `multiprodigy_inflight_requests` | provider |
/// | `multiprodigy_storage_errors_total` | operation (`keys`, `usage`, `limits`, `responses`, `replay_journal`) |
/// | `multiprodigy_usage_journal_backlog_rows` | (none): usage rows recorded and not yet in the database |
/// | `multiprodigy_build_info` | version (always 1) |
public final class GatewayMetrics: Sendable {
    /// Where the metrics are registered.
    public let registry: PrometheusCollectorRegistry
    /// The most distinct label sets per metric family before new ones are counted as `(other)`.
    public let maximumSeries: Int
    private let cache = Mutex(Cache())
    private let requestSum = Atomic<Int>(0)
    private let failoverSum = Atomic<Int>(0)
    private let continuationSum = Atomic<Int>(0)

    /// What three counters add up to over all their series since this process started: what the dashboard shows as
    /// this replica's own.
    public struct SinceStart: Sendable, Equatable {
        /// `multiprodigy_requests_total`.
        public var requests: Int
        /// `multiprodigy_failovers_total`.
        public var failovers: Int
        /// `multiprodigy_continuations_total`.
        public var continuations: Int
    }

    /// The sums of the request, failover and continuation counters since this process started.
    public var sinceStart: SinceStart {
        SinceStart(
            requests: requestSum.load(ordering: .relaxed),
            failovers: failoverSum.load(ordering: .relaxed),
            continuations: continuationSum.load(ordering: .relaxed)
        )
    }

    /// The label value for a request that named nothing configured, or reached no target.
    public static let none = "none"
    /// The label value that stands for every label set past ``maximumSeries``.
    public static let other = "(other)"

    /// Buckets for whole LLM calls and time to first token: 5 ms to 10 minutes.
    public static let callBuckets: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600,
    ]
    /// Buckets for the gateway's own time per request: 25 µs to 1 s.
    public static let overheadBuckets: [Double] = [
        0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1,
    ]

    /// The status classes a request can end with, each declared at zero for every target.
    static let statusClasses = ["2xx", "4xx", "5xx"]
    /// The `kind` values of `multiprodigy_upstream_errors_total`: every ``ProviderError/Kind`` an
    /// attempt can fail with (a cancelled one is not a failure of the upstream), and malformed chunks.
    static let upstreamErrorKinds = ProviderError.Kind.allCases.filter { $0 != .cancelled }.map(\.rawValue) + ["malformed_chunk"]

    /// Metrics in a fresh registry, with `multiprodigy_build_info` set.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), maximumSeries: Int = 2000) {
        self.registry = registry
        self.maximumSeries = maximumSeries
        registry.makeGauge(descriptor: Self.buildInfo, labels: [("version", GatewayVersion.current)]).set(Double(1))
    }

    /// Makes the series a configuration can produce, at zero, so that they exist from the first
    /// scrape: for each of `routes` (routes and declared models, as clients name them) and each of
    /// its targets, the request counters of every status class, the token counters, the cost counter
    /// of `keyName`, the upstream error counters of every kind and the breaker gauge; the in-flight
    /// gauge of each of `providers`; and `route="none"` for requests that fail before reaching one.
    ///
    /// Called for each configuration the gateway runs, so a reload adds the series of new routes and
    /// models. Series of removed ones stay at their last value, as they would without this.
    ///
    /// - Parameters:
    ///   - routes: The definitions of every route and declared model.
    ///   - providers: The configured providers' names.
    ///   - keyName: The `key` label of requests without a virtual key: `master` when a master key is
    ///     set, `none` on an open gateway.
    public func declare(routes: [RouteDefinition], providers: [String], keyName: String) {
        var breakerKeys: [String] = []
        var seenTargets: Set<String> = []
        for status in Self.statusClasses where status != "2xx" {
            _ = requestHandles(api: Self.declaredAPI, route: Self.none, provider: Self.none, model: Self.none, status: status)
        }
        for definition in routes {
            for target in definition.profiles.map(\.target) {
                for status in Self.statusClasses {
                    _ = requestHandles(
                        api: Self.declaredAPI,
                        route: definition.requestedName,
                        provider: target.providerName,
                        model: target.upstreamModel,
                        status: status
                    )
                }
                guard seenTargets.insert(target.statisticsKey).inserted else { continue }
                breakerKeys.append(target.statisticsKey)
                _ = costCounter(provider: target.providerName, model: target.upstreamModel, key: keyName)
                for kind in Self.upstreamErrorKinds {
                    _ = counter(
                        Self.upstreamErrors,
                        labels: [("provider", target.providerName), ("model", target.upstreamModel), ("kind", kind)]
                    )
                }
            }
        }
        cache.withLock { cache in
            cache.declaredBreakers = breakerKeys
            cache.declaredProviders = providers
        }
    }

    /// Records a finished request.
    public func record(_ outcome: RequestOutcome) {
        requestSum.add(1, ordering: .relaxed)
        let route = outcome.route ?? Self.none
        let provider = outcome.target?.providerName ?? Self.none
        let model = outcome.target?.upstreamModel ?? Self.none
        let handles = requestHandles(
            api: outcome.endpoint,
            route: route,
            provider: provider,
            model: model,
            status: Self.statusClass(outcome.status)
        )
        handles.requests.increment()
        handles.duration.record(outcome.duration.seconds)
        if let ttft = outcome.timeToFirstToken { handles.timeToFirstToken.record(ttft.seconds) }
        if let overhead = outcome.overhead { handles.overhead.record(max(0, overhead.seconds)) }
        guard let target = outcome.target else { return }
        let segments =
            outcome.segments.count > 1
            ? outcome.segments
            : [UsageSegment(target: target, usage: outcome.usage ?? .zero, costUSD: outcome.costUSD)]
        for segment in segments {
            let isAnswering = segment.target == target
            let tokens = isAnswering ? (handles.inputTokens, handles.outputTokens) : tokenCounters(for: segment.target)
            tokens.0.increment(by: Int64(segment.usage.promptTokens))
            tokens.1.increment(by: Int64(segment.usage.completionTokens))
            if let cost = segment.costUSD, cost > 0 {
                costCounter(provider: segment.target.providerName, model: segment.target.upstreamModel, key: outcome.keyName).increment(
                    by: cost
                )
            }
        }
    }

    /// The input and output token counters of `target`, for a part of an answer it wrote.
    private func tokenCounters(for target: RouteTarget) -> (Counter, Counter) {
        (
            counter(Self.tokens, labels: [("provider", target.providerName), ("model", target.upstreamModel), ("direction", "input")]),
            counter(Self.tokens, labels: [("provider", target.providerName), ("model", target.upstreamModel), ("direction", "output")])
        )
    }

    /// Records a failed attempt at `target`; `kind` is ``ProviderError/Kind``'s raw value or
    /// `malformed_chunk`.
    public func recordUpstreamError(_ target: RouteTarget, kind: String, count: Int = 1) {
        counter(
            Self.upstreamErrors,
            labels: [("provider", target.providerName), ("model", target.upstreamModel), ("kind", kind)]
        )
        .increment(by: Int64(count))
    }

    /// Records that a request moved on from `from` to `to` after a failure of `reason`.
    public func recordFailover(route: String, from: RouteTarget, to: RouteTarget, reason: String) {
        failoverSum.add(1, ordering: .relaxed)
        counter(
            Self.failovers,
            labels: [("route", route), ("from", from.statisticsKey), ("to", to.statisticsKey), ("reason", reason)]
        )
        .increment()
    }

    /// Records one attempt to finish a cut stream on `target`, and what became of it.
    public func recordContinuation(route: String, target: RouteTarget, outcome: String) {
        continuationSum.add(1, ordering: .relaxed)
        counter(Self.continuations, labels: [("route", route), ("target", target.statisticsKey), ("outcome", outcome)]).increment()
    }

    /// Sets `multiprodigy_key_budget_used_ratio` of each key with a budget: what it spent in its
    /// current budget period over its budget. A key that had one and has none any more (revoked, or
    /// its budget removed) is set to 0.
    public func recordBudgetUse(_ uses: [(key: String, spentUSD: Double, budgetUSD: Double)]) {
        let previous = cache.withLock { cache in
            let previous = cache.budgetedKeys
            cache.budgetedKeys = Set(uses.map(\.key))
            return previous
        }
        for use in uses where use.budgetUSD > 0 {
            gauge(Self.budgetUse, labels: [("key", use.key)])?.set(use.spentUSD / use.budgetUSD)
        }
        for key in previous.subtracting(uses.map(\.key)) {
            gauge(Self.budgetUse, labels: [("key", key)])?.set(Double(0))
        }
    }

    /// Records a request refused for a key's budget or rate limit.
    public func recordRejection(key: String, reason: String) {
        counter(Self.rejections, labels: [("key", key), ("reason", reason)]).increment()
    }

    /// The exposition text after refreshing the gauges from `breakers` and `tracker`.
    ///
    /// Every declared target has a breaker gauge (a target `breakers` has not seen is closed), and
    /// every declared provider an in-flight gauge.
    /// With a `ledger`, also the storage errors its database has counted (by operation) and its
    /// journal backlog.
    public func exposition(breakers: CircuitBreakerBoard, tracker: LatencyTracker, ledger: UsageLedger? = nil) -> [UInt8] {
        let (declaredBreakers, declaredProviders) = cache.withLock { ($0.declaredBreakers, $0.declaredProviders) }
        var breakerStates = Dictionary(declaredBreakers.map { ($0, 0) }, uniquingKeysWith: { first, _ in first })
        for entry in breakers.snapshot() { breakerStates[entry.key] = entry.gauge }
        for (key, state) in breakerStates {
            let (provider, model) = Self.split(key)
            gauge(Self.breakerState, labels: [("provider", provider), ("model", model)])?.set(Double(state))
        }
        var inFlight = Dictionary(declaredProviders.map { ($0, 0) }, uniquingKeysWith: { first, _ in first })
        for (key, observation) in tracker.snapshot() {
            inFlight[Self.split(key).provider, default: 0] += observation.inFlight
        }
        for (provider, count) in inFlight {
            gauge(Self.inFlight, labels: [("provider", provider)])?.set(Double(count))
        }
        if let ledger { exportStorage(of: ledger) }
        return registry.emitToBuffer()
    }

    /// The operations of `multiprodigy_storage_errors_total`, declared at zero.
    static let storageOperations = ["keys", "usage", "limits", "responses", "replay_journal"]

    /// Brings the storage error counters up to what `ledger`'s database has counted (counters only
    /// grow, so each scrape adds the difference), and sets the journal backlog gauge.
    private func exportStorage(of ledger: UsageLedger) {
        let counted = ledger.database.health.snapshot.errors
        let operations = Set(Self.storageOperations).union(counted.keys)
        let increments = cache.withLock { cache in
            operations.map { operation in
                let total = counted[operation] ?? 0
                defer { cache.exportedStorageErrors[operation] = max(total, cache.exportedStorageErrors[operation] ?? 0) }
                return (operation, max(0, total - (cache.exportedStorageErrors[operation] ?? 0)))
            }
        }
        for (operation, increment) in increments {
            counter(Self.storageErrors, labels: [("operation", operation)]).increment(by: Int64(increment))
        }
        gauge(Self.journalBacklog, labels: [])?.set(Double(ledger.backlogRows))
    }

    /// `2xx`, `4xx`, `5xx`, ...
    static func statusClass(_ status: Int) -> String {
        switch status {
        case 200..<300: "2xx"
        case 400..<500: "4xx"
        case 500..<600: "5xx"
        default: "\(status / 100)xx"
        }
    }

    /// `provider/model` keys split at the first slash (model names may hold more).
    static func split(_ key: String) -> (provider: String, model: String) {
        guard let slash = key.firstIndex(of: "/") else { return (key, "") }
        return (String(key[..<slash]), String(key[key.index(after: slash)...]))
    }

    // MARK: - Handles

    /// The handles of one (route, provider, model, status) label set.
    private struct RequestHandles: Sendable {
        let requests: Counter
        let duration: ValueHistogram
        let timeToFirstToken: ValueHistogram
        let overhead: ValueHistogram
        let inputTokens: Counter
        let outputTokens: Counter
    }

    private struct Cache: ~Copyable {
        var requests: [String: RequestHandles] = [:]
        var counters: [String: Counter] = [:]
        var gauges: [String: Gauge] = [:]
        /// Distinct label sets made so far, per metric family.
        var seriesPerFamily: [String: Int] = [:]
        /// The breaker keys (`provider/model`) of the running configuration's targets.
        var declaredBreakers: [String] = []
        /// The running configuration's providers.
        var declaredProviders: [String] = []
        /// Storage errors already added to `multiprodigy_storage_errors_total`, by operation.
        var exportedStorageErrors: [String: Int] = [:]
        /// The keys whose budget use was last exported.
        var budgetedKeys: Set<String> = []

        /// Counts a new label set of `family`; false when the family is full.
        mutating func admit(_ family: String, limit: Int) -> Bool {
            let count = seriesPerFamily[family, default: 0]
            guard count < limit else { return false }
            seriesPerFamily[family] = count + 1
            return true
        }
    }

    /// The labels whose values clients choose, collapsed to `(other)` past the limit.
    private static let clientChosenLabels: Set<String> = ["route", "model", "from", "to", "target"]

    /// The API whose series are declared at zero from the start: the canonical one. The others'
    /// series appear with their first request.
    private static let declaredAPI = "chat"

    private func requestHandles(api: String, route: String, provider: String, model: String, status: String) -> RequestHandles {
        let key = "\(api)\u{0}\(route)\u{0}\(provider)\u{0}\(model)\u{0}\(status)"
        if let handles = cache.withLock({ $0.requests[key] }) { return handles }
        let full = !cache.withLock { $0.admit("requests", limit: maximumSeries) }
        let labels = full ? (Self.other, provider, Self.other) : (route, provider, model)
        let series = [("api", api), ("route", labels.0), ("provider", labels.1), ("model", labels.2)]
        let handles = RequestHandles(
            requests: registry.makeCounter(descriptor: Self.requests, labels: series + [("status", status)]),
            duration: registry.makeValueHistogram(descriptor: Self.duration, labels: series, buckets: Self.callBuckets),
            timeToFirstToken: registry.makeValueHistogram(descriptor: Self.firstToken, labels: series, buckets: Self.callBuckets),
            overhead: registry.makeValueHistogram(descriptor: Self.overhead, labels: [("route", labels.0)], buckets: Self.overheadBuckets),
            inputTokens: registry.makeCounter(
                descriptor: Self.tokens,
                labels: [("provider", labels.1), ("model", labels.2), ("direction", "input")]
            ),
            outputTokens: registry.makeCounter(
                descriptor: Self.tokens,
                labels: [("provider", labels.1), ("model", labels.2), ("direction", "output")]
            )
        )
        if !full { cache.withLock { $0.requests[key] = handles } }
        return handles
    }

    /// The gauge of `descriptor` with `labels`, made once; nil past ``maximumSeries`` label sets.
    private func gauge(_ descriptor: MetricNameDescriptor, labels: [(String, String)]) -> Gauge? {
        let key = ([descriptor.name] + labels.map(\.1)).joined(separator: "\u{0}")
        if let gauge = cache.withLock({ $0.gauges[key] }) { return gauge }
        guard cache.withLock({ $0.admit(descriptor.name, limit: maximumSeries) }) else { return nil }
        let gauge = registry.makeGauge(descriptor: descriptor, labels: labels)
        cache.withLock { $0.gauges[key] = gauge }
        return gauge
    }

    private func costCounter(provider: String, model: String, key: String) -> Counter {
        counter(Self.cost, labels: [("provider", provider), ("model", model), ("key", key)])
    }

    /// The counter of `descriptor` with `labels`, made once; past ``maximumSeries`` distinct label
    /// sets of its family, the labels clients choose are `(other)`.
    private func counter(_ descriptor: MetricNameDescriptor, labels: [(String, String)]) -> Counter {
        var key = descriptor.name
        for (_, value) in labels {
            key.append("\u{0}")
            key.append(value)
        }
        if let counter = cache.withLock({ $0.counters[key] }) { return counter }
        let full = !cache.withLock { $0.admit(descriptor.name, limit: maximumSeries) }
        var labels = labels
        if full {
            for index in labels.indices where Self.clientChosenLabels.contains(labels[index].0) { labels[index].1 = Self.other }
        }
        let counter = registry.makeCounter(descriptor: descriptor, labels: labels)
        if !full { cache.withLock { $0.counters[key] = counter } }
        return counter
    }

    // MARK: - Descriptors

    private static func descriptor(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "multiprodigy", metricName: name, unitName: unit, helpText: help)
    }

    private static var requests: MetricNameDescriptor {
        descriptor("requests", unit: "total", help: "Requests answered, by API, route, target and status class.")
    }
    private static var duration: MetricNameDescriptor {
        descriptor(
            "request_duration",
            unit: "seconds",
            help: "Time from a request's arrival to its last byte, failovers included."
        )
    }
    private static var firstToken: MetricNameDescriptor {
        descriptor(
            "time_to_first_token",
            unit: "seconds",
            help: "Time from a streamed request's arrival to its first content chunk."
        )
    }
    private static var overhead: MetricNameDescriptor {
        descriptor(
            "gateway_overhead",
            unit: "seconds",
            help: "Time a request spent in the gateway itself, excluding upstream calls and retry waits."
        )
    }
    private static var tokens: MetricNameDescriptor {
        descriptor("tokens", unit: "total", help: "Tokens used, by target and direction (input, output).")
    }
    private static var cost: MetricNameDescriptor {
        descriptor("cost_usd", unit: "total", help: "Cost in USD of answered requests, by target and key.")
    }
    private static var failovers: MetricNameDescriptor {
        descriptor(
            "failovers",
            unit: "total",
            help: "Moves from one target to the next after a failure, by route and reason."
        )
    }
    private static var continuations: MetricNameDescriptor {
        descriptor(
            "continuations",
            unit: "total",
            help: "Attempts to finish a cut stream on another target, by route, target and outcome."
        )
    }
    private static var upstreamErrors: MetricNameDescriptor {
        descriptor(
            "upstream_errors",
            unit: "total",
            help: "Failed upstream attempts and skipped malformed chunks, by target and kind."
        )
    }
    private static var rejections: MetricNameDescriptor {
        descriptor(
            "rejected_requests",
            unit: "total",
            help: "Requests refused for a key's budget or rate limit."
        )
    }
    private static var budgetUse: MetricNameDescriptor {
        descriptor(
            "key_budget_used_ratio",
            unit: "",
            help: "What each virtual key with a budget spent in its current period, over its budget (1 = exhausted)."
        )
    }
    private static var breakerState: MetricNameDescriptor {
        descriptor(
            "breaker_state",
            unit: "",
            help: "Circuit breaker state per target: 0 closed, 1 half-open, 2 open."
        )
    }
    private static var inFlight: MetricNameDescriptor {
        descriptor("inflight_requests", unit: "", help: "Requests in flight to each provider.")
    }
    private static var storageErrors: MetricNameDescriptor {
        descriptor(
            "storage_errors",
            unit: "total",
            help: "Failed calls to the database (keys, usage rows, shared limits), by operation."
        )
    }
    private static var journalBacklog: MetricNameDescriptor {
        descriptor(
            "usage_journal_backlog",
            unit: "rows",
            help: "Usage rows recorded in the local journal and not yet committed to the database."
        )
    }
    private static var buildInfo: MetricNameDescriptor {
        descriptor("build", unit: "info", help: "Always 1; the gateway's version is in the version label.")
    }
}
