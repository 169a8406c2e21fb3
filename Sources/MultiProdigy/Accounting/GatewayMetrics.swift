import Prometheus

/// The gateway's Prometheus metrics, served at `GET /metrics` in the text exposition format.
///
/// State kept elsewhere (circuit breakers, in-flight counts) is read when the endpoint is scraped
/// and written to its gauges then, so the hot path does no extra work for it. Label sets are
/// bounded by the configuration: provider and model names, never prompts or request ids.
///
/// - `multiprodigy_breaker_state{provider,model}`: 0 closed, 1 half-open, 2 open.
/// - `multiprodigy_inflight_requests{provider}`: requests in flight to the provider's targets.
public final class GatewayMetrics: Sendable {
    /// Where the metrics are registered.
    public let registry: PrometheusCollectorRegistry

    /// Metrics in a fresh registry.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// The exposition text after refreshing the gauges from `breakers` and `tracker`.
    public func exposition(breakers: CircuitBreakerBoard, tracker: LatencyTracker) -> [UInt8] {
        for entry in breakers.snapshot() {
            let (provider, model) = Self.split(entry.key)
            registry.makeGauge(
                name: "multiprodigy_breaker_state",
                labels: [("provider", provider), ("model", model)],
                help: "Circuit breaker state per target: 0 closed, 1 half-open, 2 open."
            )
            .set(Double(entry.gauge))
        }
        var inFlight: [String: Int] = [:]
        for (key, observation) in tracker.snapshot() {
            inFlight[Self.split(key).provider, default: 0] += observation.inFlight
        }
        for (provider, count) in inFlight {
            registry.makeGauge(
                name: "multiprodigy_inflight_requests",
                labels: [("provider", provider)],
                help: "Requests in flight to each provider."
            )
            .set(Double(count))
        }
        return registry.emitToBuffer()
    }

    /// `provider/model` keys split at the first slash (model names may hold more).
    private static func split(_ key: String) -> (provider: String, model: String) {
        guard let slash = key.firstIndex(of: "/") else { return (key, "") }
        return (String(key[..<slash]), String(key[key.index(after: slash)...]))
    }
}
