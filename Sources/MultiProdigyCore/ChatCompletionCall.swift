import Logging
import NIOCore

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
