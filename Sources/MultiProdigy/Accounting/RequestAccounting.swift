import Foundation

/// Prices answers, admits requests against their key's limits, and records every finished
/// request in the metrics and the usage ledger.
struct RequestAccounting: Sendable {
    /// The Prometheus metrics.
    let metrics: GatewayMetrics
    /// Where prices come from.
    let resolver: ModelResolver
    /// Virtual keys' budgets and rate limits.
    let limiter: KeyLimiter
    /// A row per finished request.
    let ledger: UsageLedger

    /// The price `target` is charged at; nil for a cloud model of unknown price.
    func price(of target: RouteTarget) -> ModelPrice? {
        resolver.price(of: target)
    }

    /// The cost of `usage` on `target`; nil when its price is unknown.
    func cost(of usage: TokenUsage, on target: RouteTarget) -> Double? {
        price(of: target).map { CostModel.usd(usage, price: $0) }
    }

    /// Records a finished request, and settles what its key reserved with what it used.
    ///
    /// The ledger row is durable once this returns (see ``UsageLedger/record(_:)``): handlers call
    /// it before the last byte of the answer is written.
    func finish(_ outcome: RequestOutcome, settling reservation: KeyLimiter.Reservation? = nil) {
        metrics.record(outcome)
        ledger.record(UsageRecord(outcome))
        if let reservation {
            let usage = outcome.usage ?? .zero
            limiter.settle(reservation, tokens: usage.promptTokens + usage.completionTokens, costUSD: outcome.costUSD ?? 0)
        }
    }

    /// Admits a request of a key with `limits` routed by `plan`, reserving its estimated tokens
    /// and its cost on the dearest target it may reach.
    ///
    /// - Throws: ``GatewayError`` 429: `budget_exceeded` (not to be retried before the budget
    ///   renews), or `rate_limit_exceeded` with `Retry-After`.
    func admit(_ limits: KeyLimiter.Limits, plan: RoutePlan) throws(GatewayError) -> KeyLimiter.Reservation {
        let cost = plan.entries.compactMap(\.estimatedCostUSD).max() ?? 0
        switch limiter.admit(limits, estimatedTokens: plan.promptTokens + plan.expectedCompletionTokens, estimatedCostUSD: cost) {
        case .success(let reservation):
            return reservation
        case .failure(let rejection):
            let error = KeyLimitErrors.error(for: rejection, keyName: limits.name)
            metrics.recordRejection(key: limits.name, reason: KeyLimitErrors.reason(for: rejection))
            throw error
        }
    }
}
