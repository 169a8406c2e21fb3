import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy

/// The targets a request will be offered to, in order, and why: what the planner decided.
public struct RoutePlan: Sendable, Equatable {
    /// The client's `model`.
    public var requestedName: String
    /// The route's name when the client named a route; nil for a model or `provider/model`.
    public var routeName: String?
    /// The policy that ranked the targets (the route's, or the client's override).
    public var policy: RoutingPolicy
    /// Why the request is restricted to local targets, or nil when it is not.
    public var privateReason: String?
    /// The planner's estimate of the prompt's tokens.
    public var promptTokens: Int
    /// The most answer tokens to expect: `max_tokens` (or the default guess) times `n`. Rate limits
    /// reserve prompt and answer tokens before the call.
    public var expectedCompletionTokens: Int
    /// The most answer tokens the client allows: `max_tokens` (or `max_completion_tokens`) times
    /// `n`; nil when it set no limit.
    public var maxCompletionTokens: Int?
    /// The answer length every candidate's estimated cost assumes (before its `output_factor`).
    public var answerLength: AnswerLengthEstimate
    /// The targets to try, in order (route `fallback` last).
    public var entries: [PlannedTarget]
    /// The targets left out, each with its reason.
    public var excluded: [ExcludedTarget]
    /// The timeouts that apply.
    public var timeouts: TimeoutSettings
    /// `resilience.splice`: whether a cut stream may be restarted without its prefill on a target
    /// that cannot continue it, and spliced.
    public var splicesContinuations: Bool
    /// The error the client gets when no target can serve the request (`no_private_target`,
    /// `context_length_exceeded`, `unsupported_parameter`, `no_target_within_limits`); nil
    /// otherwise. ``entries`` is then empty.
    public var error: GatewayError?

    /// Creates a plan.
    public init(
        requestedName: String,
        routeName: String?,
        policy: RoutingPolicy = .ordered,
        privateReason: String? = nil,
        promptTokens: Int = 0,
        expectedCompletionTokens: Int = 0,
        maxCompletionTokens: Int? = nil,
        answerLength: AnswerLengthEstimate = AnswerLengthEstimate(tokens: RoutePlanner.defaultCompletionTokens, source: .standard),
        entries: [PlannedTarget],
        excluded: [ExcludedTarget] = [],
        timeouts: TimeoutSettings,
        splicesContinuations: Bool = true,
        error: GatewayError? = nil
    ) {
        self.splicesContinuations = splicesContinuations
        self.error = error
        self.requestedName = requestedName
        self.routeName = routeName
        self.policy = policy
        self.privateReason = privateReason
        self.promptTokens = promptTokens
        self.expectedCompletionTokens = expectedCompletionTokens
        self.maxCompletionTokens = maxCompletionTokens
        self.answerLength = answerLength
        self.entries = entries
        self.excluded = excluded
        self.timeouts = timeouts
    }

    /// The targets to try, in order.
    public var targets: [RouteTarget] { entries.map(\.target) }

    /// The entry of `target`, or nil when the plan does not hold it.
    public func entry(for target: RouteTarget) -> PlannedTarget? {
        entries.first { $0.target == target }
    }

    /// Whether the request may only reach local targets.
    public var isPrivate: Bool { privateReason != nil }

    /// One line for the `x-multiprodigy-route` header: the route (or model) name first, then the
    /// policy, the privacy restriction, the order and how many targets were left out.
    ///
    /// `auto; policy=cost; private=pii:email; order=llama3.2>mistral; excluded=2`
    public var summary: String {
        // Built in one buffer: it is sent with every answer.
        var summary = ""
        summary.reserveCapacity(64)
        summary += routeName ?? requestedName
        summary += "; policy="
        summary += policy.rawValue
        if let privateReason {
            summary += "; private="
            summary += privateReason
        }
        summary += "; order="
        for (index, entry) in entries.enumerated() {
            if index > 0 { summary += ">" }
            summary += entry.target.name
        }
        if !excluded.isEmpty {
            summary += "; excluded="
            summary += String(excluded.count)
        }
        return summary
    }
}
