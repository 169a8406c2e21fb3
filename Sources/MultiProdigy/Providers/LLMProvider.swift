import Logging
import NIOCore

/// A backend the gateway can send chat completions to.
///
/// An adapter translates the client's OpenAI-shaped request into its upstream's wire format and the
/// answer back into OpenAI's shape. Register your own with ``ProviderRegistry/register(_:defaultBaseURL:factory:)``.
///
/// ```swift
/// struct EchoProvider: LLMProvider {
///     func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult { ... }
///     func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream { ... }
/// }
/// ```
public protocol LLMProvider: Sendable {
    /// Answers a non-streaming chat completion.
    ///
    /// - Returns: The answer as an OpenAI `chat.completion` JSON object.
    /// - Throws: ``ProviderError`` (other errors are classified as connection errors).
    func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult

    /// Starts a streaming chat completion and returns once the upstream has accepted it.
    ///
    /// The returned events are OpenAI `chat.completion.chunk` objects; the sequence ends with
    /// ``ChatStreamEvent/done`` when the upstream said the answer is complete. A sequence that ends
    /// without it was cut short.
    ///
    /// - Throws: ``ProviderError`` when the upstream refuses the call or cannot be reached.
    func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream
}

/// One chat-completion call to one upstream target.
public struct ChatCompletionCall: Sendable {
    /// The client's validated request.
    public var request: ChatCompletionRequest
    /// The model name the upstream knows.
    public var upstreamModel: String
    /// When the upstream must have answered (non-streaming) or sent its response head (streaming).
    public var responseDeadline: NIODeadline
    /// Logger carrying the request id.
    public var logger: Logger

    /// Creates a call.
    public init(request: ChatCompletionRequest, upstreamModel: String, responseDeadline: NIODeadline, logger: Logger) {
        self.request = request
        self.upstreamModel = upstreamModel
        self.responseDeadline = responseDeadline
        self.logger = logger
    }
}

/// A complete, non-streaming answer.
public struct ChatCompletionResult: Sendable {
    /// The OpenAI `chat.completion` JSON object.
    public var body: ByteBuffer

    /// Creates a result.
    public init(body: ByteBuffer) {
        self.body = body
    }
}

/// One event of a streaming answer.
public enum ChatStreamEvent: Sendable, Equatable {
    /// An OpenAI `chat.completion.chunk` JSON object (or an in-band `{"error":…}` object).
    case chunk(ByteBuffer)
    /// The upstream said the answer is complete (`data: [DONE]` or its equivalent).
    case done
}

/// A streaming answer: a sequence of ``ChatStreamEvent``.
public struct ChatCompletionStream: Sendable {
    /// The events, in order.
    public var events: any AsyncSequence<ChatStreamEvent, any Error> & Sendable

    /// Wraps an event sequence.
    public init(events: some AsyncSequence<ChatStreamEvent, any Error> & Sendable) {
        self.events = events
    }
}
