/// A front-door API other than Chat Completions that an upstream may speak itself: the gateway then
/// passes the client's request through to it (only `model` rewritten) instead of translating it
/// through chat, so nothing the client sent is lost.
public enum NativeAPI: String, Sendable, Hashable, CaseIterable {
    /// OpenAI's Responses API: `POST {base_url}/responses`.
    case responses
    /// Anthropic's Messages API: `POST {base_url}/messages`.
    case messages
    /// Anthropic's token counting: `POST {base_url}/messages/count_tokens`, never streamed.
    case messagesCountTokens = "messages_count_tokens"
}
