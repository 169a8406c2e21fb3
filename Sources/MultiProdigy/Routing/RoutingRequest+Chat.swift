extension RoutingRequest {
    /// Describes a chat completion for the planner: its estimated prompt tokens, output limit,
    /// capabilities, privacy (the client's wish, or personal data found in its messages) and the
    /// client's overrides.
    ///
    /// - Parameters:
    ///   - chat: The validated request.
    ///   - overrides: The client's routing headers and `multiprodigy` field.
    ///   - detectsPII: `privacy.detect_pii`: scan the messages for personal data and secrets.
    public init(chat: ChatCompletionRequest, overrides: RoutingOverrides, detectsPII: Bool) {
        var request = chat.body.withUnsafeReadableBytes { bytes in
            RoutingRequest(
                promptTokens: TokenEstimator.estimatePromptTokens(of: chat),
                maxOutputTokens: ChatPromptScan.maxOutputTokens(of: chat, in: bytes),
                choiceCount: chat.choiceCount,
                requiredCapabilities: ChatPromptScan.requiredCapabilities(of: chat, in: bytes),
                isStreaming: chat.isStreaming
            )
        }
        request.apply(overrides)
        _ = detectsPII
        self = request
    }

    /// Takes the client's policy, limits and privacy wish.
    public mutating func apply(_ overrides: RoutingOverrides) {
        policyOverride = overrides.policy ?? policyOverride
        maxCostUSD = overrides.maxCostUSD ?? maxCostUSD
        maxLatency = overrides.maxLatency ?? maxLatency
        privateReason = privateReason ?? overrides.privateReason
    }
}
