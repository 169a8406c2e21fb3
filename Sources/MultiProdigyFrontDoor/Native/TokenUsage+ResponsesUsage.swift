import MultiProdigyCore
import MultiProdigyJSON

extension TokenUsage {
    /// Reads the members of an OpenAI Responses `usage` object (`input_tokens`, `output_tokens`,
    /// `input_tokens_details.cached_tokens`, `output_tokens_details.reasoning_tokens`); nil when it
    /// has neither token count. Counts that are missing or not whole numbers read as 0.
    static func readResponsesUsage(fields: [JSONMember], in bytes: UnsafeRawBufferPointer) -> TokenUsage? {
        var input: Int?
        var output: Int?
        var cached = 0
        var reasoning = 0
        for field in fields {
            switch field.key {
            case "input_tokens" where field.kind == .number:
                input = JSONScanner.integer(at: field.value, in: bytes)
            case "output_tokens" where field.kind == .number:
                output = JSONScanner.integer(at: field.value, in: bytes)
            case "input_tokens_details" where field.kind == .object:
                cached = integer("cached_tokens", inObjectAt: field.value, in: bytes) ?? cached
            case "output_tokens_details" where field.kind == .object:
                reasoning = integer("reasoning_tokens", inObjectAt: field.value, in: bytes) ?? reasoning
            default:
                continue
            }
        }
        guard input != nil || output != nil else { return nil }
        return TokenUsage(promptTokens: input ?? 0, completionTokens: output ?? 0, cachedPromptTokens: cached, reasoningTokens: reasoning)
    }
}
