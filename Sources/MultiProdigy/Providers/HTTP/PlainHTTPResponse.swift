import NIOCore
import NIOHTTP1

/// A complete HTTP response read by ``PlainHTTPClient``.
struct PlainHTTPResponse: Sendable {
    /// Status line.
    var status: HTTPResponseStatus
    /// Response headers.
    var headers: HTTPHeaders
    /// The whole body.
    var body: ByteBuffer
}
