/// `resilience.breaker`.
public struct BreakerSettings: Sendable, Equatable {
    /// `failure_threshold`: consecutive failures that open the breaker (default 3).
    public var failureThreshold: Int
    /// `cooldown` before a half-open probe (default 10s).
    public var cooldown: Duration

    /// Creates breaker settings.
    public init(failureThreshold: Int = 3, cooldown: Duration = .seconds(10)) {
        self.failureThreshold = failureThreshold
        self.cooldown = cooldown
    }
}
