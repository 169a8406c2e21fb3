import NIOCore

/// One event of a streaming answer.
public enum ChatStreamEvent: Sendable, Equatable {
    /// An OpenAI `chat.completion.chunk` JSON object (or an in-band `{"error":…}` object).
    case chunk(ByteBuffer)
    /// The upstream said the answer is complete (`data: [DONE]` or its equivalent).
    case done
}
