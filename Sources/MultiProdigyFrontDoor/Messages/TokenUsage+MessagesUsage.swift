import MultiProdigyCore
import MultiProdigyJSON

extension TokenUsage {
    /// Anthropic's `usage` object for these counts.
    ///
    /// Anthropic's `input_tokens` excludes the tokens read from and written to the cache, which
    /// chat's `prompt_tokens` includes, so `input_tokens` = prompt − cached − cache writes (never
    /// below 0). `cost_usd`, the gateway's price of the request, is added when known; Anthropic's
    /// SDKs ignore members they do not know.
    func messagesUsage(costUSD: Double?) -> JSONValue {
        var usage: JSONValue = [
            "input_tokens": .integer(max(0, promptTokens - cachedPromptTokens - cacheWriteTokens)),
            "cache_creation_input_tokens": .integer(cacheWriteTokens),
            "cache_read_input_tokens": .integer(cachedPromptTokens),
            "output_tokens": .integer(completionTokens),
        ]
        if let costUSD, costUSD.isFinite { usage["cost_usd"] = .double(costUSD) }
        return usage
    }
}
