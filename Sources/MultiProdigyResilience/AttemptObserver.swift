import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyRouting

/// Learns of every failed attempt and every move to another target, for metrics.
public protocol AttemptObserver: Sendable {
    /// An attempt at `target` failed with `error`.
    func attemptFailed(_ target: RouteTarget, error: ProviderError)
    /// After `from` failed with `reason`, the request moved on to `to`.
    func failedOver(route: String, from: RouteTarget, to: RouteTarget, reason: ProviderError.Kind)
    /// A stream from `target` that completed had `count` chunks that were not valid JSON, which
    /// were skipped.
    func skippedMalformedChunks(from target: RouteTarget, count: Int)
    /// An attempt to finish a cut stream of `route` on `target` came to `outcome`.
    func continuationEnded(route: String, at target: RouteTarget, outcome: ContinuationOutcome)
}

extension AttemptObserver {
    /// Ignores skipped chunks: observers written before this requirement existed keep building.
    public func skippedMalformedChunks(from target: RouteTarget, count: Int) {}
    /// Ignores continuations: observers written before this requirement existed keep building.
    public func continuationEnded(route: String, at target: RouteTarget, outcome: ContinuationOutcome) {}
}
