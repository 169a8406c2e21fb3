/// One input of an embeddings request.
public enum EmbeddingsInput: Sendable, Equatable {
    /// Text to embed.
    case text(String)
    /// Pre-tokenised input (OpenAI accepts arrays of token ids); only OpenAI-compatible upstreams take it.
    case tokens([Int])
}
