import MultiProdigyConfig

/// A target the planner left out of a plan, and why.
public struct ExcludedTarget: Sendable, Equatable {
    /// Which filter excluded it.
    public enum Cause: String, Sendable, Equatable {
        /// Its provider is disabled (an unset secret, say).
        case disabled
        /// A cloud target for a request that must stay local.
        case privacy
        /// It lacks a capability the request uses.
        case capability
        /// The prompt would not fit its context window.
        case context
        /// Its provider failed its last health check while another target is up.
        case unhealthy
        /// Its estimated cost or predicted latency exceeds the client's limit.
        case limit
        /// Its circuit breaker is open after repeated failures, while another target is available.
        case breakerOpen = "breaker_open"
    }

    /// The target.
    public var target: RouteTarget
    /// The filter that excluded it.
    public var cause: Cause
    /// A sentence saying why.
    public var reason: String

    /// Creates an exclusion.
    public init(target: RouteTarget, cause: Cause, reason: String) {
        self.target = target
        self.cause = cause
        self.reason = reason
    }
}
