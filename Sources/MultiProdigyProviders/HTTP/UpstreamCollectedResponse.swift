import NIOCore
import NIOHTTP1

/// A complete HTTP response, read whole on its connection's event loop by ``UpstreamTransport``.
struct UpstreamCollectedResponse: Sendable {
    /// Status line.
    var status: HTTPResponseStatus
    /// Response headers.
    var headers: HTTPHeaders
    /// The whole body.
    var body: ByteBuffer
    /// Whether the connection may carry another request, as the parser read the version and
    /// `Connection` header (without scanning the headers again).
    var keepsAlive: Bool
}
