import Foundation
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// Prices answers, admits requests against their key's limits, and records every finished
/// request in the metrics and the usage ledger.
package struct RequestAccounting: Sendable {
    /// The Prometheus metrics.
    package let metrics: GatewayMetrics
    /// Where prices come from.
    let resolver: ModelResolver
    /// Virtual keys' budgets and rate limits.
    let limiter: any KeyLimiting
    /// A row per finished request.
    let ledger: UsageLedger
    /// A log line per finished request, with `server.log_format: json`.
    package let accessLog: AccessLog?

    /// Creates the accounting of a runtime from its parts.
    package init(
        metrics: GatewayMetrics,
        resolver: ModelResolver,
        limiter: any KeyLimiting,
        ledger: UsageLedger,
        accessLog: AccessLog? = nil
    ) {
        self.accessLog = accessLog
        self.metrics = metrics
        self.resolver = resolver
        self.limiter = limiter
        self.ledger = ledger
    }

    /// The price `target` is charged at; nil for a cloud model of unknown price.
    func price(of target: RouteTarget) -> ModelPrice? {
        resolver.price(of: target)
    }

    /// An upstream's answer from `target` with its `model` set to the target's name and its cost
    /// added, for a request planned as `plan`.
    ///
    /// - Throws: ``ProviderError`` (`protocol`) when the answer is not a JSON object, so the
    ///   executor treats it as a failed attempt.
    package func priced(
        _ answer: ByteBuffer,
        from target: RouteTarget,
        plan: RoutePlan
    ) throws(ProviderError) -> CostAnnotation.PricedCompletion {
        guard
            let priced = CostAnnotation.pricing(
                answer,
                modelName: target.name,
                price: price(of: target),
                estimatedPromptTokens: plan.promptTokens
            )
        else {
            throw ProviderError(kind: .protocolViolation, message: "the upstream's answer is not a JSON object")
        }
        return priced
    }

    /// The cost of `usage` on `target`; nil when its price is unknown.
    package func cost(of usage: TokenUsage, on target: RouteTarget) -> Double? {
        price(of: target).map { CostModel.usd(usage, price: $0) }
    }

    /// Records a finished request, and settles what its key reserved with what it used.
    ///
    /// The ledger row is durable once this returns (see ``UsageLedger/record(_:)``): handlers call
    /// it before the last byte of the answer is written.
    package func finish(_ outcome: RequestOutcome, settling reservation: KeyLimiter.Reservation? = nil) {
        metrics.record(outcome)
        let record = UsageRecord(outcome)
        ledger.record(record)
        accessLog?.write(record, of: outcome)
        if let reservation {
            let usage = outcome.usage ?? .zero
            limiter.settle(reservation, tokens: usage.promptTokens + usage.completionTokens, costUSD: outcome.costUSD ?? 0, now: .now)
        }
    }

    /// Admits a request of a key with `limits` routed by `plan`, reserving its estimated tokens and,
    /// against a budget, the most it can cost.
    ///
    /// Against a budget a request reserves its prompt and the most it may answer (`max_tokens`, else
    /// the rest of the target's context window, else ``unboundedAnswerTokens``) at the dearest target
    /// it may reach, so requests in flight cannot together overspend the budget by more than one
    /// reservation. Targets without a known price are left out of the plan: their cost could not be
    /// counted.
    ///
    /// - Throws: ``GatewayError`` 429: `budget_exceeded` (not to be retried before the budget
    ///   renews), or `rate_limit_exceeded` with `Retry-After`; 400 `unpriced_model` when a budgeted
    ///   key asks only for models without a price.
    package func admit(
        _ limits: KeyLimiter.Limits,
        plan: inout RoutePlan,
        now: Date = Date()
    ) async throws(GatewayError) -> KeyLimiter.Reservation {
        var cost = 0.0
        if limits.budget != nil {
            // Each target's price, looked up once.
            let priced = plan.entries.map { (entry: $0, price: price(of: $0.target)) }
            let unpriced = priced.filter { $0.price == nil }.map(\.entry)
            if !unpriced.isEmpty {
                plan.entries = priced.filter { $0.price != nil }.map(\.entry)
                plan.excluded += unpriced.map {
                    ExcludedTarget(target: $0.target, cause: .limit, reason: "its price is unknown, so the key's budget cannot be kept")
                }
            }
            guard !plan.entries.isEmpty else {
                throw GatewayError(
                    status: .badRequest,
                    message:
                        "The key '\(limits.name)' has a budget, and no price is known for \(unpriced.map(\.target.name).joined(separator: ", ")). Add a price: to the model in the gateway's config.",
                    type: "invalid_request_error",
                    param: "model",
                    code: "unpriced_model"
                )
            }
            cost = priced.compactMap { item in item.price.map { worstCost(of: item.entry, at: $0, in: plan) } }.max() ?? 0
        }
        let tokens = plan.promptTokens + plan.expectedCompletionTokens
        switch await limiter.admit(limits, estimatedTokens: tokens, estimatedCostUSD: cost, now: .now, date: now) {
        case .success(let reservation):
            return reservation
        case .failure(let rejection):
            let error = KeyLimitErrors.error(for: rejection, keyName: limits.name)
            metrics.recordRejection(key: limits.name, reason: KeyLimitErrors.reason(for: rejection))
            throw error
        }
    }

    /// The answer length reserved against a budget when neither `max_tokens` nor the model's
    /// context window bounds it.
    static let unboundedAnswerTokens = 4096

    /// The most `entry`, charged at `price`, can cost for the request `plan` describes.
    private func worstCost(of entry: PlannedTarget, at price: ModelPrice, in plan: RoutePlan) -> Double {
        let answer =
            plan.maxCompletionTokens
            ?? entry.contextWindow.map { max(0, $0 - plan.promptTokens) }
            ?? Self.unboundedAnswerTokens
        return CostModel.usd(promptTokens: Double(plan.promptTokens), completionTokens: Double(answer), price: price)
    }
}
