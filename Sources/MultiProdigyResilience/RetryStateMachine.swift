import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyRouting
import MultiProdigyCore

/// Decides, after an attempt at one target failed, whether to try the same target again (and
/// when) or to move on to the next target.
///
/// A retry on the same target pays off only for faults that are likely gone a moment later: a
/// rate limit with a short `Retry-After`, a 5xx, a reset connection. Everything that says the
/// target will not answer soon moves on at once: a timeout (a silent target stays silent), a
/// refused connection (nothing listens), rejected credentials, an unreadable answer, a feature the
/// provider lacks. Faults the client must see (`client`) and a client that went away
/// (`cancelled`) stop the whole request.
///
/// Every retry waits a jittered backoff, so that requests which failed together do not come back
/// together, and no retry is scheduled that would start at or after the request's deadline.
///
/// Use one machine per target per request, and call ``decide(after:at:deadline:jitter:)`` after
/// each failed attempt; the machine counts the attempts. Like the other state machines it has no
/// clock and no randomness of its own: callers pass the instants and a uniform random number, which
/// keeps every decision reproducible in tests.
///
/// ```swift
/// var retry = RetryStateMachine(settings: settings.retry)
/// switch retry.decide(after: failure, at: .now, deadline: deadline, jitter: .random(in: 0..<1)) {
/// case .retry(let delay): try await Task.sleep(for: delay)  // then try the same target again
/// case .nextTarget(let reason): break  // record `reason.rawValue`, try the next target
/// case .stop: break  // give the client this failure
/// }
/// ```
public struct RetryStateMachine: Sendable {
    /// What is known about one failed attempt.
    public struct Failure: Sendable, Equatable {
        /// The failure's category.
        public var kind: ProviderError.Kind
        /// The upstream's HTTP status, when it answered with one. A 429 is treated as a rate limit
        /// whatever `kind` says.
        public var status: Int?
        /// The delay the upstream asked for (see ``RetryAfter``), when it asked for one.
        public var retryAfter: Duration?
        /// Whether the connection was refused outright, rather than reset or closed after opening.
        public var isConnectionRefused: Bool

        /// Creates a failure description.
        public init(kind: ProviderError.Kind, status: Int? = nil, retryAfter: Duration? = nil, isConnectionRefused: Bool = false) {
            self.kind = kind
            self.status = status
            self.retryAfter = retryAfter
            self.isConnectionRefused = isConnectionRefused
        }
    }

    /// Why the request moves on to the next target; its raw value is a low-cardinality metric label.
    public enum Reason: String, Sendable, Equatable, CaseIterable {
        /// The target had all the attempts it may have.
        case attemptsExhausted = "attempts_exhausted"
        /// The upstream asked for a wait longer than `max_retry_after`.
        case retryAfterTooLong = "retry_after_too_long"
        /// The retry would start at or after the request's deadline.
        case budget
        /// A timeout fired: a target that did not answer in time is not asked again.
        case silent
        /// The connection was refused: nothing listens there.
        case connectionRefused = "connection_refused"
        /// The failure says nothing will change soon (rejected credentials, an unreadable answer, a
        /// feature the provider lacks); the failure's kind tells which.
        case notRetryable = "not_retryable"
    }

    /// What to do after a failed attempt.
    public enum Decision: Sendable, Equatable {
        /// Try the same target again once `after` has passed.
        case retry(after: Duration)
        /// Leave this target and try the next one.
        case nextTarget(reason: Reason)
        /// Try no other target: the failure goes to the client (or the client is gone).
        case stop
    }

    /// Backoff base after a 429 without `Retry-After`: long enough for a per-second rate window to
    /// roll over. With jitter the first wait lies between 250 and 750 ms.
    public static let rateLimitBackoffBase: Duration = .milliseconds(500)

    /// Backoff base after a 5xx, a 408 or a reset connection: these faults are usually gone at once,
    /// and the client is waiting. With jitter the first wait lies between 50 and 150 ms.
    public static let transientBackoffBase: Duration = .milliseconds(100)

    /// The un-jittered backoff never grows beyond this, however many attempts are configured, so a
    /// large `max_attempts_per_target` cannot turn into minutes of waiting on one target.
    public static let maximumBackoff: Duration = .seconds(2)

    /// Most attempts on one target after 429s without `Retry-After`, whatever the settings allow:
    /// the upstream gave no hint when it recovers, and the next target may have quota now.
    public static let maximumRateLimitAttemptsWithoutRetryAfter = 2

    /// Attempts made at this target so far, counting the first one.
    public private(set) var attempts = 0

    private let settings: RetrySettings

    /// Starts tracking a target that has not been tried yet.
    ///
    /// - Parameter settings: `resilience.retry`: `max_attempts_per_target` (Int, default 2; values
    ///   below 1 count as 1, which means never retry) and `max_retry_after` (duration, default 5s).
    public init(settings: RetrySettings) {
        self.settings = settings
    }

    /// Records a failed attempt and decides what comes next.
    ///
    /// The backoff is `base × 2^(retries so far)`, capped at ``maximumBackoff``, times
    /// `0.5 + jitter`: a uniform spread of ±50 % around the nominal wait. A short `Retry-After` is
    /// used as it is, without jitter, because the upstream named the moment it recovers.
    ///
    /// - Parameters:
    ///   - failure: What went wrong with the attempt.
    ///   - now: When the attempt failed.
    ///   - deadline: When the whole request must be over.
    ///   - jitter: A uniform random number in `0..<1` drawn by the caller; values outside are
    ///     clamped, and `NaN` counts as 0.
    /// - Returns: Whether to retry this target and after what delay, move on, or stop.
    public mutating func decide(
        after failure: Failure,
        at now: ContinuousClock.Instant,
        deadline: ContinuousClock.Instant,
        jitter: Double
    ) -> Decision {
        attempts += 1
        // The status is the upstream's own word; a 429 filed under another kind is still a rate limit.
        let kind: ProviderError.Kind = failure.status == 429 && failure.kind != .cancelled ? .rateLimited : failure.kind
        let isRateLimited = kind == .rateLimited
        var attemptLimit = max(1, settings.maxAttemptsPerTarget)
        switch kind {
        case .client, .cancelled:
            return .stop
        case .timeout:
            return .nextTarget(reason: .silent)
        case .authentication, .protocolViolation, .unsupported:
            return .nextTarget(reason: .notRetryable)
        case .connection where failure.isConnectionRefused:
            return .nextTarget(reason: .connectionRefused)
        case .connection, .server, .rateLimited:
            break
        }
        if isRateLimited, failure.retryAfter == nil {
            attemptLimit = min(attemptLimit, Self.maximumRateLimitAttemptsWithoutRetryAfter)
        }
        guard attempts < attemptLimit else { return .nextTarget(reason: .attemptsExhausted) }

        let delay: Duration
        // A connection error has no headers, so any Retry-After there is a caller's leftover.
        if kind != .connection, let retryAfter = failure.retryAfter {
            // HTTP defines Retry-After for 429 and 503 (529 is Anthropic's 503); an upstream sending
            // it with another 5xx asks for the same thing, so it is honoured alike.
            guard retryAfter <= settings.maxRetryAfter else { return .nextTarget(reason: .retryAfterTooLong) }
            delay = max(retryAfter, .zero)
        } else {
            let base = isRateLimited ? Self.rateLimitBackoffBase : Self.transientBackoffBase
            delay = Self.backoff(base: base, retriesSoFar: attempts - 1, jitter: jitter)
        }
        guard now.advanced(by: delay) < deadline else { return .nextTarget(reason: .budget) }
        return .retry(after: delay)
    }

    /// `min(base × 2^retriesSoFar, maximumBackoff) × (0.5 + jitter)`, to the nearest nanosecond.
    private static func backoff(base: Duration, retriesSoFar: Int, jitter: Double) -> Duration {
        var nominal = base
        // Doubling stops at the cap, so a large attempt count cannot overflow.
        var doublings = retriesSoFar
        while doublings > 0, nominal < maximumBackoff {
            nominal *= 2
            doublings -= 1
        }
        nominal = min(nominal, maximumBackoff)
        let spread = jitter.isNaN ? 0 : min(max(jitter, 0), 1)
        let (seconds, attoseconds) = nominal.components
        let nanoseconds = Double(seconds) * 1e9 + Double(attoseconds / 1_000_000_000)
        return .nanoseconds(Int64((nanoseconds * (0.5 + spread)).rounded()))
    }
}
