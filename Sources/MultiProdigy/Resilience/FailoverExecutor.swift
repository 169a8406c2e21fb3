/// Walks a ``RoutePlan`` in order until a target answers.
///
/// It moves on after a failure that happened before anything reached the client and that is the
/// upstream's fault (connection error, timeout, 408/429/5xx, an unreadable answer); it stops at the
/// upstream's own 4xx, which is the client's to see; it stops when the client goes away or the
/// total time budget runs out.
public struct FailoverExecutor: Sendable {
    private let providers: [String: ProviderSlot]
    private let health: ProviderHealthBoard

    /// Creates an executor over the configured providers.
    ///
    /// - Parameters:
    ///   - providers: The configured providers, by name.
    ///   - health: Active health checks; a target whose provider failed its last one is skipped
    ///     while a target that did not fail remains in the plan.
    public init(providers: [String: ProviderSlot], health: ProviderHealthBoard = ProviderHealthBoard()) {
        self.providers = providers
        self.health = health
    }

    /// Tries each target of `plan` with `attempt` until one succeeds.
    ///
    /// - Parameters:
    ///   - plan: The targets, in order.
    ///   - modelRequested: The client's `model`, for error messages.
    ///   - totalDeadline: When the whole call must be over.
    ///   - promptTokens: A low estimate of the prompt's tokens: a target whose provider reports a
    ///     smaller input limit (TGI's `/info`) is skipped.
    ///   - attempt: One attempt at one target.
    public func run<Value: Sendable>(
        _ plan: RoutePlan,
        modelRequested: String,
        totalDeadline: ContinuousClock.Instant,
        promptTokens: Int? = nil,
        attempt: (RouteTarget, any LLMProvider) async throws -> Value
    ) async -> ExecutionResult<Value> {
        var failures: [(target: RouteTarget, reason: String, error: ProviderError?)] = []
        var attempts = 0
        var lastTarget: RouteTarget?
        var tooLong: [Int] = []
        // A probe can be stale: when every target's provider looks down, try them all anyway.
        let probes = health.snapshot()
        let skipsDownProviders = plan.targets.contains { probes[$0.providerName]?.downReason == nil }
        for target in plan.targets {
            guard let slot = providers[target.providerName], let provider = slot.provider else {
                let reason = providers[target.providerName]?.config.disabledReason ?? "provider not configured"
                failures.append((target, "provider '\(target.providerName)' is disabled: \(reason)", nil))
                continue
            }
            if let promptTokens, let limit = probes[target.providerName]?.maxInputTokens, promptTokens > limit {
                tooLong.append(limit)
                failures.append(
                    (target, "skipped: the prompt (at least \(promptTokens) tokens) exceeds the \(limit)-token input limit it reports", nil)
                )
                continue
            }
            if skipsDownProviders, let reason = probes[target.providerName]?.downReason {
                failures.append((target, "skipped: provider '\(target.providerName)' failed its health check (\(reason))", nil))
                continue
            }
            if ContinuousClock.now >= totalDeadline {
                failures.append((target, "not tried: the total time budget ran out", nil))
                break
            }
            attempts += 1
            lastTarget = target
            do {
                let value = try await attempt(target, provider)
                return .success(value, target: target, attempts: attempts)
            } catch {
                let failure = ProviderError.classify(error)
                if failure.kind == .cancelled || Task.isCancelled {
                    return .failure(Self.cancelledError, lastTarget: target, attempts: attempts)
                }
                failures.append((target, failure.message, failure))
                if !failure.allowsFailover {
                    return .failure(Self.clientError(from: failure, target: target), lastTarget: target, attempts: attempts)
                }
            }
        }
        if attempts == 0, !tooLong.isEmpty, tooLong.count == failures.count, let largest = tooLong.max() {
            let error = GatewayError(
                status: .badRequest,
                message:
                    "This model's maximum input is \(largest) tokens, and your messages are longer (at least \(promptTokens ?? 0) tokens). "
                    + "Shorten the messages or choose a model with a larger context window.",
                type: "invalid_request_error",
                param: "messages",
                code: "context_length_exceeded"
            )
            return .failure(error, lastTarget: nil, attempts: 0)
        }
        return .failure(
            Self.exhaustedError(modelRequested: modelRequested, failures: failures, attempts: attempts),
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
        let lastAnswered = failures.last { $0.error?.upstreamError != nil }?.error?.upstreamError
        if let lastAnswered, failures.last?.error?.upstreamError != nil {
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
