import NIOCore

/// A complete, non-streaming answer.
public struct ChatCompletionResult: Sendable {
    /// The OpenAI `chat.completion` JSON object.
    public var body: ByteBuffer

    /// Creates a result.
    public init(body: ByteBuffer) {
        self.body = body
    }
}
