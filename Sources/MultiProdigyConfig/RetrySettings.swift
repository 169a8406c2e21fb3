/// `resilience.retry`.
public struct RetrySettings: Sendable, Equatable {
    /// `max_attempts_per_target` (default 2).
    public var maxAttemptsPerTarget: Int
    /// `max_retry_after`: longest `Retry-After` honoured on the same target (default 5s).
    public var maxRetryAfter: Duration

    /// Creates retry settings.
    public init(maxAttemptsPerTarget: Int = 2, maxRetryAfter: Duration = .seconds(5)) {
        self.maxAttemptsPerTarget = maxAttemptsPerTarget
        self.maxRetryAfter = maxRetryAfter
    }
}
