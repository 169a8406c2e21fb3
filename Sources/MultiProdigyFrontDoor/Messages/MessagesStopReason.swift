/// Anthropic's `stop_reason` for a chat answer's `finish_reason`.
enum MessagesStopReason {
    /// The stop reason: `stop` → `end_turn`, `length` → `max_tokens`, `tool_calls` (and the legacy
    /// `function_call`) → `tool_use`, `content_filter` → `refusal`; nil or anything else → `end_turn`.
    ///
    /// - Parameters:
    ///   - finishReason: The chat answer's `finish_reason`.
    ///   - calledTools: Whether the answer holds tool calls: an upstream that says `stop` after
    ///     calling a tool still asks the client to run it, which Anthropic clients learn from
    ///     `tool_use`.
    ///   - refused: Whether the answer holds a refusal, which Anthropic reports as `refusal`.
    static func stopReason(finishReason: String?, calledTools: Bool, refused: Bool) -> String {
        switch finishReason {
        case "length": return "max_tokens"
        case "tool_calls", "function_call": return "tool_use"
        case "content_filter": return "refusal"
        default:
            if calledTools { return "tool_use" }
            return refused ? "refusal" : "end_turn"
        }
    }
}
