/// Prices answers and records every finished request in the metrics (and the usage ledger).
struct RequestAccounting: Sendable {
    /// The Prometheus metrics.
    let metrics: GatewayMetrics
    /// Where prices come from.
    let resolver: ModelResolver

    /// The price `target` is charged at; nil for a cloud model of unknown price.
    func price(of target: RouteTarget) -> ModelPrice? {
        resolver.price(of: target)
    }

    /// The cost of `usage` on `target`; nil when its price is unknown.
    func cost(of usage: TokenUsage, on target: RouteTarget) -> Double? {
        price(of: target).map { CostModel.usd(usage, price: $0) }
    }

    /// Records a finished request.
    func finish(_ outcome: RequestOutcome) {
        metrics.record(outcome)
    }
}
