import MultiProdigyJSON
import MultiProdigyRouting
import MultiProdigyCore

/// Learns of every failed attempt and every move to another target, for metrics.
public protocol AttemptObserver: Sendable {
    /// An attempt at `target` failed with `error`.
    func attemptFailed(_ target: RouteTarget, error: ProviderError)
    /// After `from` failed with `reason`, the request moved on to `to`.
    func failedOver(route: String, from: RouteTarget, to: RouteTarget, reason: ProviderError.Kind)
}
