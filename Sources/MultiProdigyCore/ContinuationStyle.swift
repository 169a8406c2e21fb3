/// How a target is asked to continue an answer that another target started: the partial answer
/// goes out as a trailing assistant message, and the target streams the rest.
///
/// Anthropic's Messages API continues a trailing assistant message natively ("prefill"), so
/// `type: anthropic` targets continue without declaring anything. OpenAI-compatible servers start
/// a new turn after a trailing assistant message unless told otherwise; vLLM, SGLang and TGI accept
/// `"continue_final_message": true, "add_generation_prompt": false`, so `openai` and `huggingface`
/// targets that declare `supports: [continuation]` get those fields. Other types (`gemini`,
/// `ollama`, custom ones) continue only when declared, and receive the trailing assistant message
/// as their adapter translates it; whether the model really continues it varies by server.
public enum ContinuationStyle: Sendable, Equatable {
    /// The trailing assistant message alone.
    case prefill
    /// The trailing assistant message plus the vLLM-style fields `continue_final_message: true`
    /// and `add_generation_prompt: false`.
    case continueFinalMessage

    /// The style for a target of provider `type` `providerType`, or nil when it cannot continue.
    ///
    /// - Parameters:
    ///   - providerType: The provider's `type`.
    ///   - declared: Whether the model's `supports:` lists `continuation`.
    public init?(providerType: String, declared: Bool) {
        if providerType == "anthropic" {
            self = .prefill
            return
        }
        guard declared else { return nil }
        self = providerType == "openai" || providerType == "huggingface" ? .continueFinalMessage : .prefill
    }
}
