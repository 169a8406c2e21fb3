import HTTPTypes
import MultiProdigyAccounting
import NIOCore

/// What a request's task writes to its client's channel; ``GatewayHTTPHandler`` turns it into bytes.
enum ResponsePart: Sendable {
    /// The head, with the body's length when it is known in advance (nil: the body is streamed).
    case head(HTTPResponse, bodyLength: Int?)
    /// Bytes of the body.
    case body(ByteBuffer)
    /// The end of the body, with trailer fields if any.
    case end(HTTPFields?)
}
