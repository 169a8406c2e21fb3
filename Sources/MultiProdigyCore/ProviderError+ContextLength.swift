import MultiProdigyJSON

extension ProviderError {
    /// Whether the upstream refused the prompt as longer than the model's context window.
    ///
    /// Providers say so differently: OpenAI and vLLM with code `context_length_exceeded` or "maximum
    /// context length", Anthropic "prompt is too long", Gemini "exceeds the maximum number of
    /// tokens", llama.cpp "exceeds the available context size", TGI "`inputs` tokens +
    /// `max_new_tokens` must be <= N". Such a refusal is the model's limit, not the client's
    /// mistake: a target with a larger window may still serve the request.
    public var isContextLengthExceeded: Bool {
        guard kind == .client, let error = upstreamError else { return false }
        if error.code == "context_length_exceeded" { return true }
        let message = error.message.lowercased()
        return Self.contextLengthPhrases.contains { message.contains($0) }
            || (message.contains("tokens") && message.contains("must be <="))
    }

    private static let contextLengthPhrases = [
        "maximum context length",
        "context length exceeded",
        "context_length_exceeded",
        "prompt is too long",
        "exceeds the maximum number of tokens",
        "exceeds the available context size",
        "exceeds the context window",
        "input is too long for the model",
    ]
}
