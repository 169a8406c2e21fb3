import Logging
import NIOCore

/// One embeddings call to one upstream target.
public struct EmbeddingsCall: Sendable {
    /// The client's validated request.
    public var request: EmbeddingsRequest
    /// The model name the upstream knows.
    public var upstreamModel: String
    /// When the upstream must have answered.
    public var responseDeadline: NIODeadline
    /// Logger carrying the request id.
    public var logger: Logger

    /// Creates a call.
    public init(request: EmbeddingsRequest, upstreamModel: String, responseDeadline: NIODeadline, logger: Logger) {
        self.request = request
        self.upstreamModel = upstreamModel
        self.responseDeadline = responseDeadline
        self.logger = logger
    }
}
