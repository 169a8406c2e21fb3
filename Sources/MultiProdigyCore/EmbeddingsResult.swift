import NIOCore

/// An embeddings answer: either an OpenAI `list` body to relay, or vectors for the gateway to render.
public enum EmbeddingsResult: Sendable {
    /// An OpenAI-shaped embeddings response body (from an OpenAI-compatible upstream), relayed with
    /// its `model` rewritten.
    case openAIBody(ByteBuffer)
    /// One vector per input, in input order, and the prompt tokens counted by the upstream if it did.
    /// The gateway renders OpenAI's shape, honouring `encoding_format`.
    case vectors([[Float]], promptTokens: Int?)
}
