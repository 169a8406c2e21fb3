/// `resilience:` settings.
public struct ResilienceSettings: Sendable, Equatable {
    /// `timeouts`.
    public var timeouts: TimeoutSettings
    /// `retry`.
    public var retry: RetrySettings
    /// `breaker`.
    public var breaker: BreakerSettings
    /// `health_check.interval`.
    public var healthCheckInterval: Duration
    /// `splice`: whether a cut stream may be restarted without its prefill on a target that cannot
    /// continue it, and spliced once the new answer has reproduced the text already sent (default
    /// true). A route's `resilience.splice` overrides it.
    public var splice: Bool

    /// Creates resilience settings with the documented defaults.
    public init(
        timeouts: TimeoutSettings = TimeoutSettings(),
        retry: RetrySettings = RetrySettings(),
        breaker: BreakerSettings = BreakerSettings(),
        healthCheckInterval: Duration = .seconds(15),
        splice: Bool = true
    ) {
        self.splice = splice
        self.timeouts = timeouts
        self.retry = retry
        self.breaker = breaker
        self.healthCheckInterval = healthCheckInterval
    }
}
