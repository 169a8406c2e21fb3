import MultiProdigyConfig
import MultiProdigyCore

/// USD for tokens at a model's price (prices are per million tokens).
public enum CostModel {
    /// The cost of `promptTokens` in and `completionTokens` out at `price`.
    public static func usd(promptTokens: Double, completionTokens: Double, price: ModelPrice) -> Double {
        (promptTokens * price.input + completionTokens * price.output) / 1_000_000
    }

    /// The cost of `usage` at `price`: cached prompt tokens at `cached_input`, prompt tokens written
    /// to the cache at `cache_write` and reasoning tokens at `reasoning` where the price has them,
    /// at `input` and `output` otherwise.
    public static func usd(_ usage: TokenUsage, price: ModelPrice) -> Double {
        let cached = Double(usage.cachedPromptTokens)
        let written = Double(usage.cacheWriteTokens)
        let uncached = Double(usage.promptTokens - usage.cachedPromptTokens - usage.cacheWriteTokens)
        let reasoning = Double(usage.reasoningTokens)
        let answer = Double(usage.completionTokens - usage.reasoningTokens)
        let input = uncached * price.input + cached * (price.cachedInput ?? price.input) + written * (price.cacheWrite ?? price.input)
        let output = answer * price.output + reasoning * (price.reasoning ?? price.output)
        return (input + output) / 1_000_000
    }
}
