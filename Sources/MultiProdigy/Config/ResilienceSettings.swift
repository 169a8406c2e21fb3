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

/// `resilience.timeouts`.
///
/// - `connect`: opening a connection to an upstream.
/// - `first_byte`: the response head of a streaming call.
/// - `first_token`: the first content chunk of a stream, counted from the start of the attempt.
/// - `stall`: the longest silence between two chunks of a stream.
/// - `total`: the whole call, failovers included; a non-streaming call waits up to this long.
public struct TimeoutSettings: Sendable, Equatable {
    /// `connect` (default 5s).
    public var connect: Duration
    /// `first_byte` (default 30s).
    public var firstByte: Duration
    /// `first_token` (default 60s).
    public var firstToken: Duration
    /// `stall` (default 30s).
    public var stall: Duration
    /// `total` (default 600s).
    public var total: Duration

    /// Creates timeouts with the documented defaults.
    public init(
        connect: Duration = .seconds(5),
        firstByte: Duration = .seconds(30),
        firstToken: Duration = .seconds(60),
        stall: Duration = .seconds(30),
        total: Duration = .seconds(600)
    ) {
        self.connect = connect
        self.firstByte = firstByte
        self.firstToken = firstToken
        self.stall = stall
        self.total = total
    }
}

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
