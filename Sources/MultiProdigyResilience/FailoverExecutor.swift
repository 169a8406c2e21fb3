import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyRouting
import Tracing

/// Walks a ``RoutePlan`` in order until a target answers.
///
/// Each target is asked through its circuit breaker. After a failure that happened before anything
/// reached the client, ``RetryStateMachine`` decides: try the same target again (a 500 once, a
/// reset, a 429 with a short `Retry-After`, after a jittered backoff), or move to the next target
/// (a silent or refusing upstream, attempts used up, a long `Retry-After`), or stop (the
/// upstream's own 4xx, which is the client's to see). It stops when the client goes away or the
/// total time budget runs out. A 400 saying the prompt is too long moves on only to targets with a
/// larger context window.
public struct FailoverExecutor: Sendable {
    private let providers: [String: ProviderSlot]
    /// Learns every attempt's latency, and the length of the answers upstreams report.
    let tracker: LatencyTracker
    private let breakers: CircuitBreakerBoard
    private let retry: RetrySettings
    /// Learns of failed attempts, failovers and skipped chunks (the metrics).
    let observer: (any AttemptObserver)?
    /// Masks secrets in every failure's text before it is kept, logged or shown to the client.
    public let scrubber: SecretScrubber
    /// The most bytes of chunks a non-streaming answer assembled from a stream may take
    /// (`server.max_response_bytes`, as for a whole answer).
    let maximumAnswerBytes: Int
    /// Records a span per attempt and per continuation under the request's span (the task's
    /// `ServiceContext`); nil when tracing is off, and then nothing is recorded or added to an
    /// upstream call.
    let tracer: (any Tracer)?

    /// Creates an executor over the configured providers.
    ///
    /// - Parameters:
    ///   - providers: The configured providers, by name.
    ///   - tracker: Receives every attempt's in-flight span and latency, which the planner reads.
    ///   - breakers: One circuit breaker per target, fed by every attempt.
    ///   - retry: `resilience.retry`: attempts per target and the longest `Retry-After` honoured.
    ///   - observer: Learns of failed attempts and failovers (the metrics).
    ///   - scrubber: Masks secrets an upstream's error text quotes (see ``SecretScrubber``).
    ///   - maximumAnswerBytes: `server.max_response_bytes`: the most a non-streaming answer
    ///     assembled from a stream may take.
    ///   - tracer: Records attempts and continuations as spans when tracing is on (`tracing:`).
    public init(
        providers: [String: ProviderSlot],
        tracker: LatencyTracker = LatencyTracker(),
        breakers: CircuitBreakerBoard = CircuitBreakerBoard(settings: BreakerSettings()),
        retry: RetrySettings = RetrySettings(),
        observer: (any AttemptObserver)? = nil,
        scrubber: SecretScrubber = SecretScrubber(),
        maximumAnswerBytes: Int = 32 << 20,
        tracer: (any Tracer)? = nil
    ) {
        self.maximumAnswerBytes = maximumAnswerBytes
        self.tracer = tracer
        self.providers = providers
        self.tracker = tracker
        self.breakers = breakers
        self.retry = retry
        self.observer = observer
        self.scrubber = scrubber
    }

    /// The APIs besides chat that `target`'s provider speaks itself; none when it is not configured
    /// or is disabled.
    public func nativeAPIs(of target: RouteTarget) -> Set<NativeAPI> {
        providers[target.providerName]?.provider?.nativeAPIs ?? []
    }

    /// The provider that serves `target`, when it is configured, enabled, and allowed for `plan`
    /// (a private plan never reaches a cloud provider), for calls outside the failover walk.
    public func provider(for target: RouteTarget, in plan: RoutePlan) -> (any LLMProvider)? {
        guard let slot = providers[target.providerName], let provider = slot.provider else { return nil }
        if plan.isPrivate, slot.config.locality != .local { return nil }
        return provider
    }

    /// Tries each target of `plan` with `attempt` until one succeeds.
    ///
    /// A private plan never reaches a provider whose `locality` is not `local`, even if a target
    /// slipped into it: the planner filters them, and this check holds whatever built the plan.
    ///
    /// - Parameters:
    ///   - plan: The targets, in order, and the ones the planner excluded (named in errors).
    ///   - totalDeadline: When the whole call must be over.
    ///   - measurement: What a successful attempt's duration measures: time to the first token
    ///     (streams commit at their first content chunk) or to the whole answer.
    ///   - attempt: One attempt at one target.
    public func run<Value: Sendable>(
        _ plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        measurement: LatencyTracker.Measurement = .total,
        attempt: (RouteTarget, any LLMProvider) async throws -> Value
    ) async -> ExecutionResult<Value> {
        var upstreamTime = Duration.zero
        return await run(plan, totalDeadline: totalDeadline, measurement: measurement, upstreamTime: &upstreamTime, attempt: attempt)
    }

    /// Tries each target of `plan` with `attempt` until one succeeds, adding to `upstreamTime` the
    /// time spent in attempts and waiting between them, so the caller can tell its own time apart.
    ///
    /// When tracing is on and the task has a request's span, each attempt is a client span named
    /// after `operation` (`gen_ai.operation.name`) and its call carries that span's `traceparent`.
    public func run<Value: Sendable>(
        _ plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        measurement: LatencyTracker.Measurement = .total,
        operation: String = "chat",
        upstreamTime: inout Duration,
        attempt: (RouteTarget, any LLMProvider) async throws -> Value
    ) async -> ExecutionResult<Value> {
        // Read once: nil when tracing is off or the request is not traced.
        let tracing = tracer.flatMap { tracer in ServiceContext.current.map { (tracer: tracer, parent: $0) } }
        var failures: [(target: RouteTarget, reason: String, error: ProviderError?)] = plan.excluded.map { ($0.target, $0.reason, nil) }
        var attempts = 0
        var lastTarget: RouteTarget?
        var lastFailure: ProviderError.Kind?
        // After a target refuses the prompt as too long, a target whose window is no larger would too.
        var refusedWindow: Int?
        var random = SplitMixGenerator(seed: UInt64(truncatingIfNeeded: ContinuousClock.now.hashValue))
        targets: for entry in plan.entries {
            let target = entry.target
            if let refusedWindow, let window = entry.contextWindow, window <= refusedWindow {
                failures.append((target, "skipped: its \(window)-token context window is no larger than one that refused the prompt", nil))
                continue
            }
            guard let slot = providers[target.providerName], let provider = slot.provider else {
                let reason = providers[target.providerName]?.config.disabledReason ?? "provider not configured"
                failures.append((target, "provider '\(target.providerName)' is disabled: \(reason)", nil))
                continue
            }
            if plan.isPrivate, slot.config.locality != .local {
                failures.append((target, "cloud target for a private request", nil))
                continue
            }
            let key = target.statisticsKey
            var retries = RetryStateMachine(settings: retry)
            while true {
                if ContinuousClock.now >= totalDeadline {
                    failures.append((target, "not tried: the total time budget ran out", nil))
                    break targets
                }
                let permission = breakers.permit(key, at: .now)
                if case .rejected = permission {
                    failures.append((target, "skipped: its circuit breaker is open after repeated failures", nil))
                    continue targets
                }
                attempts += 1
                if let previous = lastTarget, previous != target, let reason = lastFailure {
                    observer?.failedOver(route: plan.requestedName, from: previous, to: target, reason: reason)
                }
                lastTarget = target
                let trace = tracing.map {
                    AttemptTrace(
                        tracer: $0.tracer,
                        parent: $0.parent,
                        operation: operation,
                        target: target,
                        providerType: slot.config.type,
                        attempt: attempts
                    )
                }
                let started = ContinuousClock.now
                tracker.begin(key)
                let outcome: Result<Value, ProviderError>
                do {
                    if let trace {
                        outcome = .success(
                            try await UpstreamTraceHeaders.$current.withValue(trace.headers) { try await attempt(target, provider) }
                        )
                    } else {
                        outcome = .success(try await attempt(target, provider))
                    }
                } catch {
                    // Every reason below (retries, "every target failed", the client's error) is
                    // built from this one, so this is where an upstream's text loses its secrets.
                    outcome = .failure(scrubber.scrub(ProviderError.classify(error)))
                }
                tracker.end(key)
                upstreamTime += .now - started
                AttemptTrail.current?.attempted(target, outcome: outcome.trailOutcome)
                let failure: ProviderError
                switch outcome {
                case .success(let value):
                    trace?.succeeded()
                    breakers.recordSuccess(key, at: .now)
                    tracker.record(measurement, .now - started, for: key)
                    return .success(value, target: target, attempts: attempts)
                case .failure(let error):
                    failure = error
                }
                if failure.kind == .cancelled || Task.isCancelled {
                    trace?.cancelled()
                    breakers.recordAbandoned(key)
                    return .failure(Self.cancelledError, lastTarget: target, attempts: attempts)
                }
                record(failure, of: key, after: .now - started, measurement: measurement)
                observer?.attemptFailed(target, error: failure)
                lastFailure = failure.kind
                failures.append((target, failure.message, failure))
                if failure.isContextLengthExceeded {
                    trace?.failed(failure, next: .failover)
                    refusedWindow = max(refusedWindow ?? 0, entry.contextWindow ?? 0)
                    continue targets
                }
                let decision = retries.decide(
                    after: RetryStateMachine.Failure(
                        kind: failure.kind,
                        status: failure.upstreamStatus,
                        retryAfter: failure.retryAfter,
                        isConnectionRefused: failure.isConnectionRefused
                    ),
                    at: .now,
                    deadline: totalDeadline,
                    jitter: Double.random(in: 0..<1, using: &random)
                )
                switch decision {
                case .retry(let delay): trace?.failed(failure, next: .retry(delay: delay))
                case .nextTarget: trace?.failed(failure, next: .failover)
                case .stop: trace?.failed(failure, next: .stop)
                }
                switch decision {
                case .retry(let delay):
                    let sleeping = ContinuousClock.now
                    defer { upstreamTime += .now - sleeping }
                    do {
                        try await Task.sleep(for: delay)
                    } catch {
                        return .failure(Self.cancelledError, lastTarget: target, attempts: attempts)
                    }
                case .nextTarget:
                    continue targets
                case .stop:
                    return .failure(Self.clientError(from: failure, target: target), lastTarget: target, attempts: attempts)
                }
            }
        }
        return .failure(
            Self.exhaustedError(modelRequested: plan.requestedName, failures: failures, attempts: attempts),
            lastTarget: lastTarget,
            attempts: attempts
        )
    }

    /// Feeds a failed attempt to the breaker and the latency estimate: failures that say the target
    /// is unwell count against it; an upstream that answered the client's mistake with a 4xx is
    /// alive; a feature refused before anything was sent says nothing about its health.
    private func record(_ failure: ProviderError, of key: String, after elapsed: Duration, measurement: LatencyTracker.Measurement) {
        switch failure.kind {
        case .connection, .timeout, .rateLimited, .server, .protocolViolation, .authentication:
            breakers.recordFailure(key, at: .now)
            tracker.recordFailure(measurement, after: elapsed, for: key)
        case .client:
            breakers.recordSuccess(key, at: .now)
        case .cancelled, .unsupported:
            breakers.recordAbandoned(key)
        }
    }

    private static let cancelledError = GatewayError(
        status: HTTPResponseStatusCompat.clientClosedRequest,
        message: "The client closed the request.",
        type: "invalid_request_error",
        code: "client_closed_request"
    )

    private static func clientError(from failure: ProviderError, target: RouteTarget) -> GatewayError {
        failure.upstreamError
            ?? GatewayError(
                status: .badGateway,
                message: "\(target.name): \(failure.message)",
                type: "upstream_error",
                code: "upstream_error"
            )
    }

    /// The error for a plan whose every target failed or was unavailable.
    static func exhaustedError(
        modelRequested: String,
        failures: [(target: RouteTarget, reason: String, error: ProviderError?)],
        attempts: Int
    ) -> GatewayError {
        let details = failures.map { "\($0.target.name) (\($0.target.providerName)): \($0.reason)" }.joined(separator: "; ")
        guard attempts > 0 else {
            return GatewayError(
                status: .serviceUnavailable,
                message: "No enabled provider can serve '\(modelRequested)'. \(details).",
                type: "upstream_error",
                code: "provider_unavailable"
            )
        }
        let summary = "Every target for '\(modelRequested)' failed: \(details)."
        // The last target actually tried decides: when it answered with an error, the client gets
        // that error and status (targets skipped after it say nothing about the request).
        if let lastAnswered = failures.last(where: { $0.error != nil })?.error?.upstreamError {
            var error = lastAnswered
            error.message = "\(lastAnswered.message) — \(summary)"
            return error
        }
        let tried = failures.compactMap(\.error)
        if !tried.isEmpty, tried.allSatisfy({ $0.kind == .timeout }) {
            return GatewayError(status: .gatewayTimeout, message: summary, type: "upstream_error", code: "upstream_timeout")
        }
        return GatewayError(status: .badGateway, message: summary, type: "upstream_error", code: "upstream_unavailable")
    }
}

extension Result where Failure == ProviderError {
    /// How an attempt that ended with this result shows in an ``AttemptTrail``: `ok`, or the failure's kind.
    fileprivate var trailOutcome: String {
        switch self {
        case .success: "ok"
        case .failure(let error): error.kind.rawValue
        }
    }
}
