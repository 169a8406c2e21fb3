import MultiProdigyJSON
import MultiProdigyResilience
import MultiProdigyRouting
import MultiProdigyCore

extension GatewayMetrics: AttemptObserver {
    /// Counts the failure in `multiprodigy_upstream_errors_total`.
    public func attemptFailed(_ target: RouteTarget, error: ProviderError) {
        recordUpstreamError(target, kind: error.kind.rawValue)
    }

    /// Counts the move in `multiprodigy_failovers_total`.
    public func failedOver(route: String, from: RouteTarget, to: RouteTarget, reason: ProviderError.Kind) {
        recordFailover(route: route, from: from, to: to, reason: reason.rawValue)
    }
}
