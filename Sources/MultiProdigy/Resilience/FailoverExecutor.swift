/// Walks a ``RoutePlan`` in order until a target answers.
///
/// It moves on after a failure that happened before anything reached the client and that is the
/// upstream's fault (connection error, timeout, 408/429/5xx, an unreadable answer); it stops at the
/// upstream's own 4xx, which is the client's to see; it stops when the client goes away or the
/// total time budget runs out.
public struct FailoverExecutor: Sendable {
    private let providers: [String: ProviderSlot]
    private let tracker: LatencyTracker

    /// Creates an executor over the configured providers.
    ///
    /// - Parameters:
    ///   - providers: The configured providers, by name.
    ///   - tracker: Receives every attempt's in-flight span and latency, which the planner reads.
    public init(providers: [String: ProviderSlot], tracker: LatencyTracker = LatencyTracker()) {
        self.providers = providers
        self.tracker = tracker
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
        var failures: [(target: RouteTarget, reason: String, error: ProviderError?)] = plan.excluded.map { ($0.target, $0.reason, nil) }
        var attempts = 0
        var lastTarget: RouteTarget?
        // After a target refuses the prompt as too long, a target whose window is no larger would too.
        var refusedWindow: Int?
        for entry in plan.entries {
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
            if ContinuousClock.now >= totalDeadline {
                failures.append((target, "not tried: the total time budget ran out", nil))
                break
            }
            attempts += 1
            lastTarget = target
            let key = target.statisticsKey
            let started = ContinuousClock.now
            tracker.begin(key)
            defer { tracker.end(key) }
            do {
                let value = try await attempt(target, provider)
                tracker.record(measurement, .now - started, for: key)
                return .success(value, target: target, attempts: attempts)
            } catch {
                let failure = ProviderError.classify(error)
                if failure.kind == .cancelled || Task.isCancelled {
                    return .failure(Self.cancelledError, lastTarget: target, attempts: attempts)
                }
                // A failing target must not look fast to the latency policy (nor a silent one only as
                // slow as the time it wasted); the client's own mistakes say nothing about it.
                switch failure.kind {
                case .connection, .timeout, .rateLimited, .server, .protocolViolation, .authentication:
                    tracker.recordFailure(measurement, after: .now - started, for: key)
                case .client, .cancelled, .unsupported:
                    break
                }
                failures.append((target, failure.message, failure))
                if failure.isContextLengthExceeded {
                    refusedWindow = max(refusedWindow ?? 0, entry.contextWindow ?? 0)
                    continue
                }
                if !failure.allowsFailover {
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
