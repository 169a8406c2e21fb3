import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyResilience
import MultiProdigyRouting

extension GatewayMetrics: AttemptObserver {
    /// Counts the failure in `multiprodigy_upstream_errors_total`.
    public func attemptFailed(_ target: RouteTarget, error: ProviderError) {
        recordUpstreamError(target, kind: error.kind.rawValue)
    }

    /// Counts the move in `multiprodigy_failovers_total`.
    public func failedOver(route: String, from: RouteTarget, to: RouteTarget, reason: ProviderError.Kind) {
        recordFailover(route: route, from: from, to: to, reason: reason.rawValue)
    }

    /// Counts the chunks in `multiprodigy_upstream_errors_total` as `malformed_chunk`.
    public func skippedMalformedChunks(from target: RouteTarget, count: Int) {
        recordUpstreamError(target, kind: "malformed_chunk", count: count)
    }

    /// Counts the attempt in `multiprodigy_continuations_total`.
    public func continuationEnded(route: String, at target: RouteTarget, outcome: ContinuationOutcome) {
        recordContinuation(route: route, target: target, outcome: outcome.rawValue)
    }
}
