import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyResilience
@testable import MultiProdigyCore

@Suite struct RetryStateMachineTests {
    typealias Failure = RetryStateMachine.Failure

    /// How much time the request has left when the attempt fails.
    enum Budget: String, Sendable {
        /// 60 s: every allowed retry fits.
        case ample
        /// 10 ms: shorter than any backoff.
        case tight

        var remaining: Duration { self == .ample ? .seconds(60) : .milliseconds(10) }
    }

    /// One failed attempt (the `attempt`-th at its target, earlier ones failing alike) and what must follow.
    struct Row: Sendable, CustomTestStringConvertible {
        var failure: Failure
        var maxAttempts = 2
        var attempt = 1
        var budget = Budget.ample
        var jitter = 0.0
        var expected: RetryStateMachine.Decision

        var testDescription: String {
            let status = failure.status.map { " \($0)" } ?? ""
            let retryAfter = failure.retryAfter.map { " Retry-After \($0)" } ?? ""
            let refused = failure.isConnectionRefused ? " refused" : ""
            return
                "\(failure.kind.rawValue)\(status)\(retryAfter)\(refused), attempt \(attempt)/\(maxAttempts), \(budget.rawValue), jitter \(jitter) → \(expected)"
        }
    }

    static let rateLimited = Failure(kind: .rateLimited, status: 429)
    static func rateLimited(retryAfter: Duration) -> Failure { Failure(kind: .rateLimited, status: 429, retryAfter: retryAfter) }
    static func server(_ status: Int?, retryAfter: Duration? = nil) -> Failure {
        Failure(kind: .server, status: status, retryAfter: retryAfter)
    }
    static let reset = Failure(kind: .connection)
    static let refused = Failure(kind: .connection, isConnectionRefused: true)

    static let rateLimitRows: [Row] = [
        // Without Retry-After: one jittered retry (250–750 ms), never a third attempt.
        Row(failure: rateLimited, jitter: 0, expected: .retry(after: .milliseconds(250))),
        Row(failure: rateLimited, jitter: 0.5, expected: .retry(after: .milliseconds(500))),
        Row(failure: rateLimited, jitter: 0.999, expected: .retry(after: .microseconds(749_500))),
        Row(failure: rateLimited, attempt: 2, expected: .nextTarget(reason: .attemptsExhausted)),
        Row(failure: rateLimited, maxAttempts: 3, jitter: 0.999, expected: .retry(after: .microseconds(749_500))),
        Row(failure: rateLimited, maxAttempts: 3, attempt: 2, expected: .nextTarget(reason: .attemptsExhausted)),
        Row(failure: rateLimited, maxAttempts: 5, attempt: 2, expected: .nextTarget(reason: .attemptsExhausted)),
        Row(failure: rateLimited, maxAttempts: 1, expected: .nextTarget(reason: .attemptsExhausted)),
        Row(failure: rateLimited, budget: .tight, expected: .nextTarget(reason: .budget)),
        // With a short Retry-After: waited exactly, without jitter, up to the attempt limit.
        Row(failure: rateLimited(retryAfter: .seconds(1)), jitter: 0, expected: .retry(after: .seconds(1))),
        Row(failure: rateLimited(retryAfter: .seconds(1)), jitter: 0.999, expected: .retry(after: .seconds(1))),
        Row(failure: rateLimited(retryAfter: .milliseconds(1)), expected: .retry(after: .milliseconds(1))),
        Row(failure: rateLimited(retryAfter: .zero), budget: .tight, expected: .retry(after: .zero)),
        Row(failure: rateLimited(retryAfter: .seconds(5)), expected: .retry(after: .seconds(5))),
        Row(failure: rateLimited(retryAfter: .seconds(1)), attempt: 2, expected: .nextTarget(reason: .attemptsExhausted)),
        Row(failure: rateLimited(retryAfter: .seconds(1)), maxAttempts: 3, attempt: 2, expected: .retry(after: .seconds(1))),
        Row(failure: rateLimited(retryAfter: .seconds(1)), maxAttempts: 3, attempt: 3, expected: .nextTarget(reason: .attemptsExhausted)),
        Row(failure: rateLimited(retryAfter: .seconds(1)), maxAttempts: 1, expected: .nextTarget(reason: .attemptsExhausted)),
        Row(failure: rateLimited(retryAfter: .seconds(1)), budget: .tight, expected: .nextTarget(reason: .budget)),
        // With a long Retry-After (over max_retry_after, 5 s): the next target.
        Row(failure: rateLimited(retryAfter: .milliseconds(5_001)), expected: .nextTarget(reason: .retryAfterTooLong)),
        Row(failure: rateLimited(retryAfter: .seconds(10)), jitter: 0.999, expected: .nextTarget(reason: .retryAfterTooLong)),
        Row(failure: rateLimited(retryAfter: .seconds(10)), maxAttempts: 3, expected: .nextTarget(reason: .retryAfterTooLong)),
        Row(failure: rateLimited(retryAfter: .seconds(10)), budget: .tight, expected: .nextTarget(reason: .retryAfterTooLong)),
        Row(failure: rateLimited(retryAfter: .seconds(86_400)), expected: .nextTarget(reason: .retryAfterTooLong)),
        // With no retry left, running out of attempts is the reason, however long the wish.
        Row(failure: rateLimited(retryAfter: .seconds(10)), maxAttempts: 1, expected: .nextTarget(reason: .attemptsExhausted)),
        // A 429 status is a rate limit whatever kind the caller filed it under (but cancellation wins).
        Row(failure: Failure(kind: .server, status: 429), jitter: 0, expected: .retry(after: .milliseconds(250))),
        Row(failure: Failure(kind: .client, status: 429), jitter: 0, expected: .retry(after: .milliseconds(250))),
        Row(failure: Failure(kind: .protocolViolation, status: 429), attempt: 2, expected: .nextTarget(reason: .attemptsExhausted)),
        Row(failure: Failure(kind: .cancelled, status: 429), expected: .stop),
    ]

    static let serverRows: [Row] =
        [500, 502, 503, 504, 408, 529, nil].flatMap { (status: Int?) -> [Row] in
            [
                // 5xx once then healthy: one quick jittered retry (50–150 ms) on the same target.
                Row(failure: server(status), jitter: 0, expected: .retry(after: .milliseconds(50))),
                Row(failure: server(status), jitter: 0.999, expected: .retry(after: .microseconds(149_900))),
                // Persistent: max_attempts_per_target in total, then the next target.
                Row(failure: server(status), attempt: 2, expected: .nextTarget(reason: .attemptsExhausted)),
                Row(failure: server(status), attempt: 2, jitter: 0.999, expected: .nextTarget(reason: .attemptsExhausted)),
                Row(failure: server(status), maxAttempts: 1, expected: .nextTarget(reason: .attemptsExhausted)),
                Row(failure: server(status), maxAttempts: 3, attempt: 2, jitter: 0, expected: .retry(after: .milliseconds(100))),
                Row(failure: server(status), maxAttempts: 3, attempt: 2, jitter: 0.999, expected: .retry(after: .microseconds(299_800))),
                Row(failure: server(status), maxAttempts: 3, attempt: 3, expected: .nextTarget(reason: .attemptsExhausted)),
                Row(failure: server(status), budget: .tight, expected: .nextTarget(reason: .budget)),
                Row(failure: server(status), budget: .tight, jitter: 0.999, expected: .nextTarget(reason: .budget)),
                // Retry-After is honoured like on a 429.
                Row(failure: server(status, retryAfter: .seconds(2)), jitter: 0.999, expected: .retry(after: .seconds(2))),
                Row(failure: server(status, retryAfter: .seconds(30)), expected: .nextTarget(reason: .retryAfterTooLong)),
                Row(failure: server(status, retryAfter: .seconds(2)), budget: .tight, expected: .nextTarget(reason: .budget)),
                Row(failure: server(status, retryAfter: .seconds(2)), attempt: 2, expected: .nextTarget(reason: .attemptsExhausted)),
            ]
        }

    static let connectionRows: [Row] = [
        // Reset before headers: one quick retry, then the next target.
        Row(failure: reset, jitter: 0, expected: .retry(after: .milliseconds(50))),
        Row(failure: reset, jitter: 0.999, expected: .retry(after: .microseconds(149_900))),
        Row(failure: reset, attempt: 2, expected: .nextTarget(reason: .attemptsExhausted)),
        Row(failure: reset, maxAttempts: 1, expected: .nextTarget(reason: .attemptsExhausted)),
        Row(failure: reset, maxAttempts: 3, attempt: 2, jitter: 0, expected: .retry(after: .milliseconds(100))),
        Row(failure: reset, budget: .tight, expected: .nextTarget(reason: .budget)),
        // A connection error has no headers: a Retry-After there is ignored.
        Row(failure: Failure(kind: .connection, retryAfter: .seconds(30)), jitter: 0, expected: .retry(after: .milliseconds(50))),
        // Refused: nothing listens, so no retry however many attempts are allowed.
        Row(failure: refused, expected: .nextTarget(reason: .connectionRefused)),
        Row(failure: refused, maxAttempts: 3, jitter: 0.999, expected: .nextTarget(reason: .connectionRefused)),
        Row(failure: refused, maxAttempts: 1, expected: .nextTarget(reason: .connectionRefused)),
        Row(failure: refused, budget: .tight, expected: .nextTarget(reason: .connectionRefused)),
    ]

    /// Kinds that never retry, crossed with everything that could tempt a retry.
    static let neverRetriedRows: [Row] = {
        let outcomes: [(Failure, RetryStateMachine.Decision)] = [
            (Failure(kind: .timeout), .nextTarget(reason: .silent)),
            (Failure(kind: .timeout, retryAfter: .seconds(1)), .nextTarget(reason: .silent)),
            (Failure(kind: .authentication, status: 401), .nextTarget(reason: .notRetryable)),
            (Failure(kind: .authentication, status: 403, retryAfter: .seconds(1)), .nextTarget(reason: .notRetryable)),
            (Failure(kind: .protocolViolation), .nextTarget(reason: .notRetryable)),
            (Failure(kind: .protocolViolation, status: 302), .nextTarget(reason: .notRetryable)),
            (Failure(kind: .unsupported), .nextTarget(reason: .notRetryable)),
            (Failure(kind: .unsupported, status: 400), .nextTarget(reason: .notRetryable)),
            (Failure(kind: .client, status: 400), .stop),
            (Failure(kind: .client, status: 404), .stop),
            (Failure(kind: .client, status: 413, retryAfter: .seconds(1)), .stop),
            (Failure(kind: .client), .stop),
            (Failure(kind: .cancelled), .stop),
            (Failure(kind: .cancelled, retryAfter: .seconds(1)), .stop),
            (Failure(kind: .cancelled, status: 503), .stop),
        ]
        return outcomes.flatMap { failure, expected in
            [1, 2, 3].flatMap { maxAttempts in
                [Budget.ample, .tight].flatMap { budget in
                    [0.0, 0.999].map { jitter in
                        Row(failure: failure, maxAttempts: maxAttempts, budget: budget, jitter: jitter, expected: expected)
                    }
                }
            }
        }
    }()

    static let settings = RetrySettings()

    /// Replays `row.attempt - 1` earlier failures alike (each leaving the target with retries left),
    /// then returns the machine's decision on the `row.attempt`-th.
    static func decision(for row: Row) -> (RetryStateMachine.Decision, attempts: Int) {
        var machine = RetryStateMachine(settings: RetrySettings(maxAttemptsPerTarget: row.maxAttempts))
        let now = ContinuousClock.now
        for _ in 1..<row.attempt {
            _ = machine.decide(after: row.failure, at: now, deadline: now.advanced(by: .seconds(60)), jitter: 0.5)
        }
        let decision = machine.decide(after: row.failure, at: now, deadline: now.advanced(by: row.budget.remaining), jitter: row.jitter)
        return (decision, machine.attempts)
    }

    @Test(arguments: rateLimitRows) func rateLimitsHonourShortRetryAfterAndOtherwiseRetryOnceThenFailOver(row: Row) {
        let (decision, attempts) = Self.decision(for: row)
        #expect(decision == row.expected)
        #expect(attempts == row.attempt)
    }

    @Test(arguments: serverRows) func serverErrorsRetryWithinTheAttemptLimitThenFailOver(row: Row) {
        let (decision, attempts) = Self.decision(for: row)
        #expect(decision == row.expected)
        #expect(attempts == row.attempt)
    }

    @Test(arguments: connectionRows) func resetsRetryQuicklyAndRefusalsFailOverAtOnce(row: Row) {
        let (decision, attempts) = Self.decision(for: row)
        #expect(decision == row.expected)
        #expect(attempts == row.attempt)
    }

    @Test(arguments: neverRetriedRows) func silentRejectedUnreadableAndClientFailuresAreNeverRetried(row: Row) {
        let (decision, attempts) = Self.decision(for: row)
        #expect(decision == row.expected)
        #expect(attempts == 1)
    }

    @Test func backoffDoublesPerRetryUpToTwoSecondsBeforeJitter() {
        var low = RetryStateMachine(settings: RetrySettings(maxAttemptsPerTarget: 10))
        var high = RetryStateMachine(settings: RetrySettings(maxAttemptsPerTarget: 10))
        let now = ContinuousClock.now
        let deadline = now.advanced(by: .seconds(60))
        let expectedLow: [Duration] = [50, 100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000].map { .milliseconds($0) }
        let expectedHigh: [Duration] = [149_900, 299_800, 599_600, 1_199_200, 2_398_400, 2_998_000, 2_998_000, 2_998_000, 2_998_000]
            .map { .microseconds($0) }
        for index in 0..<9 {
            #expect(low.decide(after: Self.server(503), at: now, deadline: deadline, jitter: 0) == .retry(after: expectedLow[index]))
            #expect(high.decide(after: Self.server(503), at: now, deadline: deadline, jitter: 0.999) == .retry(after: expectedHigh[index]))
        }
        #expect(low.decide(after: Self.server(503), at: now, deadline: deadline, jitter: 0) == .nextTarget(reason: .attemptsExhausted))
        #expect(low.attempts == 10)
    }

    @Test(arguments: [
        (Double.nan, Duration.milliseconds(50)),
        (-1, .milliseconds(50)),
        (-.infinity, .milliseconds(50)),
        (1, .milliseconds(150)),
        (7, .milliseconds(150)),
        (.infinity, .milliseconds(150)),
        (0.25, .milliseconds(75)),
    ])
    func jitterOutsideTheUnitIntervalIsClamped(jitter: Double, expected: Duration) {
        var machine = RetryStateMachine(settings: Self.settings)
        let now = ContinuousClock.now
        #expect(
            machine.decide(after: Self.reset, at: now, deadline: now.advanced(by: .seconds(60)), jitter: jitter) == .retry(after: expected)
        )
    }

    @Test(arguments: [
        (Duration.milliseconds(50), RetryStateMachine.Decision.nextTarget(reason: .budget)),
        (.nanoseconds(50_000_001), .retry(after: .milliseconds(50))),
        (.zero, .nextTarget(reason: .budget)),
        (.seconds(-1), .nextTarget(reason: .budget)),
    ])
    func aRetryMustStartBeforeTheDeadline(remaining: Duration, expected: RetryStateMachine.Decision) {
        var machine = RetryStateMachine(settings: Self.settings)
        let now = ContinuousClock.now
        #expect(machine.decide(after: Self.reset, at: now, deadline: now.advanced(by: remaining), jitter: 0) == expected)
    }

    @Test func aZeroRetryAfterStillNeedsTimeBeforeTheDeadline() {
        var machine = RetryStateMachine(settings: Self.settings)
        let now = ContinuousClock.now
        #expect(
            machine.decide(after: Self.rateLimited(retryAfter: .zero), at: now, deadline: now, jitter: 0) == .nextTarget(reason: .budget)
        )
    }

    @Test(arguments: [0, -1, Int.min])
    func attemptLimitsBelowOneMeanNeverRetry(maxAttempts: Int) {
        var machine = RetryStateMachine(settings: RetrySettings(maxAttemptsPerTarget: maxAttempts))
        let now = ContinuousClock.now
        #expect(
            machine.decide(after: Self.server(500), at: now, deadline: now.advanced(by: .seconds(60)), jitter: 0)
                == .nextTarget(reason: .attemptsExhausted)
        )
    }

    @Test func maxRetryAfterComesFromTheSettings() {
        let now = ContinuousClock.now
        let deadline = now.advanced(by: .seconds(60))
        var strict = RetryStateMachine(settings: RetrySettings(maxRetryAfter: .milliseconds(500)))
        #expect(
            strict.decide(after: Self.rateLimited(retryAfter: .seconds(1)), at: now, deadline: deadline, jitter: 0)
                == .nextTarget(reason: .retryAfterTooLong)
        )
        var patient = RetryStateMachine(settings: RetrySettings(maxRetryAfter: .seconds(30)))
        #expect(
            patient.decide(after: Self.rateLimited(retryAfter: .seconds(20)), at: now, deadline: deadline, jitter: 0)
                == .retry(after: .seconds(20))
        )
        var never = RetryStateMachine(settings: RetrySettings(maxRetryAfter: .zero))
        #expect(
            never.decide(after: Self.rateLimited(retryAfter: .milliseconds(1)), at: now, deadline: deadline, jitter: 0)
                == .nextTarget(reason: .retryAfterTooLong)
        )
    }

    @Test func aNegativeRetryAfterMeansNow() {
        var machine = RetryStateMachine(settings: Self.settings)
        let now = ContinuousClock.now
        #expect(
            machine.decide(after: Self.rateLimited(retryAfter: .seconds(-3)), at: now, deadline: now.advanced(by: .seconds(1)), jitter: 0)
                == .retry(after: .zero)
        )
    }

    @Test func aTargetThatRecoversAfterOneFiveHundredIsRetriedOnce() {
        var machine = RetryStateMachine(settings: Self.settings)
        let now = ContinuousClock.now
        guard
            case .retry(let delay) = machine.decide(after: Self.server(500), at: now, deadline: now.advanced(by: .seconds(30)), jitter: 0.3)
        else {
            Issue.record("a first 500 must be retried")
            return
        }
        #expect(delay == .milliseconds(80))
        #expect(machine.attempts == 1)
    }

    @Test func aSilentTargetIsLeftAfterItsFirstTimeoutEvenWithRetriesLeft() {
        var machine = RetryStateMachine(settings: RetrySettings(maxAttemptsPerTarget: 5))
        let now = ContinuousClock.now
        #expect(
            machine.decide(after: Failure(kind: .timeout), at: now, deadline: now.advanced(by: .seconds(60)), jitter: 0)
                == .nextTarget(reason: .silent)
        )
    }

    @Test func laterFailuresOnTheSameTargetShareItsAttemptCount() {
        // A 500 and then a 429 on one target: the 429 is the second attempt, so it fails over.
        var machine = RetryStateMachine(settings: Self.settings)
        let now = ContinuousClock.now
        let deadline = now.advanced(by: .seconds(60))
        #expect(machine.decide(after: Self.server(500), at: now, deadline: deadline, jitter: 0) == .retry(after: .milliseconds(50)))
        #expect(
            machine.decide(after: Self.rateLimited(retryAfter: .seconds(1)), at: now, deadline: deadline, jitter: 0)
                == .nextTarget(reason: .attemptsExhausted)
        )
        #expect(machine.attempts == 2)
    }

    @Test func retriesStayWithinTheirLimitsWhateverTheFailure() {
        // Simulates a target failing the same way until the machine gives up, for every combination,
        // and checks the promises callers rely on.
        let failures: [Failure] = [
            ProviderError.Kind.connection, .timeout, .rateLimited, .server, .client, .authentication, .protocolViolation,
            .cancelled, .unsupported,
        ].flatMap { kind in
            [nil, 408, 429, 500, 503, 529].flatMap { (status: Int?) in
                [nil, Duration.zero, .seconds(1), .seconds(5), .seconds(6)].flatMap { retryAfter in
                    [false, true].map { Failure(kind: kind, status: status, retryAfter: retryAfter, isConnectionRefused: $0) }
                }
            }
        }
        let settings = RetrySettings()
        for failure in failures {
            for maxAttempts in 1...4 {
                for jitter in [0, 0.5, 0.999] {
                    for remaining in [Duration.milliseconds(10), .milliseconds(700), .seconds(60)] {
                        let isRateLimit = failure.kind != .cancelled && (failure.kind == .rateLimited || failure.status == 429)
                        let isRetryable =
                            isRateLimit || failure.kind == .server || failure.kind == .connection && !failure.isConnectionRefused
                        var machine = RetryStateMachine(settings: RetrySettings(maxAttemptsPerTarget: maxAttempts))
                        var now = ContinuousClock.now
                        let deadline = now.advanced(by: remaining)
                        var decision = machine.decide(after: failure, at: now, deadline: deadline, jitter: jitter)
                        while case .retry(let delay) = decision {
                            #expect(delay >= .zero)
                            #expect(delay <= max(settings.maxRetryAfter, RetryStateMachine.maximumBackoff * 1.5))
                            #expect(now.advanced(by: delay) < deadline)
                            #expect(isRetryable, "\(failure) must not be retried")
                            now = now.advanced(by: delay)
                            decision = machine.decide(after: failure, at: now, deadline: deadline, jitter: jitter)
                        }
                        #expect(machine.attempts <= maxAttempts)
                        if isRateLimit, failure.retryAfter == nil { #expect(machine.attempts <= 2) }
                        if failure.kind == .cancelled || failure.kind == .client && !isRateLimit { #expect(decision == .stop) }
                        if failure.kind == .timeout && !isRateLimit { #expect(machine.attempts == 1) }
                    }
                }
            }
        }
    }

    @Test func reasonsAreSnakeCaseMetricLabels() {
        #expect(
            RetryStateMachine.Reason.allCases.map(\.rawValue) == [
                "attempts_exhausted", "retry_after_too_long", "budget", "silent", "connection_refused", "not_retryable",
            ]
        )
    }

    @Test func backoffConstantsAreTheDocumentedOnes() {
        #expect(RetryStateMachine.rateLimitBackoffBase == .milliseconds(500))
        #expect(RetryStateMachine.transientBackoffBase == .milliseconds(100))
        #expect(RetryStateMachine.maximumBackoff == .seconds(2))
        #expect(RetryStateMachine.maximumRateLimitAttemptsWithoutRetryAfter == 2)
    }
}
