import Logging
import NIOCore

/// One call to one upstream target: the client's validated request, addressed to the model name
/// the upstream knows, with the deadline the upstream must meet.
///
/// Chat completions and embeddings are the same call carrying a different request, so one type
/// serves both; adapters see them as ``ChatCompletionCall`` and ``EmbeddingsCall``.
///
/// ```swift
/// let call = ChatCompletionCall(request: chat, upstreamModel: "llama3.1:8b", responseDeadline: .now() + .seconds(30), logger: logger)
/// ```
public struct ProviderCall<Request: Sendable>: Sendable {
    /// The client's validated request.
    public var request: Request
    /// The model name the upstream knows.
    public var upstreamModel: String
    /// When the upstream must have answered (a non-streaming call) or sent its response head (a
    /// streaming one).
    public var responseDeadline: NIODeadline
    /// Logger carrying the request id.
    public var logger: Logger

    /// Creates a call.
    public init(request: Request, upstreamModel: String, responseDeadline: NIODeadline, logger: Logger) {
        self.request = request
        self.upstreamModel = upstreamModel
        self.responseDeadline = responseDeadline
        self.logger = logger
    }
}

/// One chat-completion call to one upstream target.
public typealias ChatCompletionCall = ProviderCall<ChatCompletionRequest>

/// One embeddings call to one upstream target.
public typealias EmbeddingsCall = ProviderCall<EmbeddingsRequest>
