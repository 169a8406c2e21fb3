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

    /// Creates resilience settings with the documented defaults.
    public init(
        timeouts: TimeoutSettings = TimeoutSettings(),
        retry: RetrySettings = RetrySettings(),
        breaker: BreakerSettings = BreakerSettings(),
        healthCheckInterval: Duration = .seconds(15)
    ) {
        self.timeouts = timeouts
        self.retry = retry
        self.breaker = breaker
        self.healthCheckInterval = healthCheckInterval
    }
}
