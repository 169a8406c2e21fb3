import MultiProdigyConfig

/// What the planner needs to know about one request: its size, the capabilities it uses, whether
/// it must stay on local targets, and the client's own routing wishes.
///
/// Built once per request (``init(chat:privacy:detector:)`` for chat completions) and then only
/// read, so planning itself never touches the body again.
public struct RoutingRequest: Sendable, Equatable {
    /// Estimated prompt tokens.
    public var promptTokens: Int
    /// `max_completion_tokens` (or `max_tokens`), when the client set one.
    public var maxOutputTokens: Int?
    /// How many answers the client asked for (`n`); output cost scales with it.
    public var choiceCount: Int
    /// Capabilities the request uses.
    public var requiredCapabilities: Set<ModelCapability>
    /// Whether the answer is streamed, which decides whether time to first token or total time
    /// predicts latency.
    public var isStreaming: Bool
    /// Why the request must stay on local targets (`pii:email`, `header`, `route`...), or nil.
    public var privateReason: String?
    /// The client's policy override (header `x-multiprodigy-policy` or `multiprodigy.policy`).
    public var policyOverride: RoutingPolicy?
    /// `multiprodigy.max_cost_usd`: targets estimated dearer are excluded.
    public var maxCostUSD: Double?
    /// `multiprodigy.max_latency_ms`: targets predicted slower are excluded.
    public var maxLatency: Duration?

    /// Creates a request description.
    public init(
        promptTokens: Int,
        maxOutputTokens: Int? = nil,
        choiceCount: Int = 1,
        requiredCapabilities: Set<ModelCapability> = [],
        isStreaming: Bool = false,
        privateReason: String? = nil,
        policyOverride: RoutingPolicy? = nil,
        maxCostUSD: Double? = nil,
        maxLatency: Duration? = nil
    ) {
        self.promptTokens = promptTokens
        self.maxOutputTokens = maxOutputTokens
        self.choiceCount = choiceCount
        self.requiredCapabilities = requiredCapabilities
        self.isStreaming = isStreaming
        self.privateReason = privateReason
        self.policyOverride = policyOverride
        self.maxCostUSD = maxCostUSD
        self.maxLatency = maxLatency
    }

    /// Whether the request may only reach `locality: local` targets.
    public var isPrivate: Bool { privateReason != nil }
}
