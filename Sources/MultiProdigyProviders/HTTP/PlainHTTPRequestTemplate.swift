import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore
import NIOHTTP1

/// The constant part of one upstream's POST requests, serialised once.
///
/// Each call then costs one buffer: this prefix, its `content-length`, and the body. The headers
/// are fixed per provider (host, content type, credentials, configured extras), so there is no
/// reason to build and encode them again for every request.
struct PlainHTTPRequestTemplate: Sendable {
    /// Where requests go.
    package let endpoint: PlainHTTPEndpoint
    /// The head given to the response decoder, which needs the method of each request.
    package let head: HTTPRequestHead
    private let prefix: ByteBuffer

    /// Prepares requests to `endpoint` with `headers`; nil when a header cannot be sent verbatim
    /// (a CR or LF in a name or value), in which case the caller uses a validating client instead.
    init?(endpoint: PlainHTTPEndpoint, headers: HTTPHeaders) {
        var prefix = ByteBuffer()
        prefix.writeString("POST \(endpoint.path) HTTP/1.1\r\nhost: \(endpoint.hostHeader)\r\n")
        for (name, value) in headers {
            guard !name.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == UInt8(ascii: ":") }),
                !value.utf8.contains(where: { $0 == 13 || $0 == 10 }),
                name.lowercased() != "content-length", name.lowercased() != "host"
            else { return nil }
            prefix.writeString("\(name): \(value)\r\n")
        }
        prefix.writeStaticString("content-length: ")
        self.endpoint = endpoint
        self.head = HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.path)
        self.prefix = prefix
    }

    /// The whole request for `body`.
    package func request(with body: ByteBuffer) -> ByteBuffer {
        var request = ByteBuffer()
        request.reserveCapacity(prefix.readableBytes + body.readableBytes + 24)
        request.writeImmutableBuffer(prefix)
        request.writeString(String(body.readableBytes))
        request.writeStaticString("\r\n\r\n")
        request.writeImmutableBuffer(body)
        return request
    }
}

/// Writes requests that ``PlainHTTPRequestTemplate`` serialised: `.body` carries the complete bytes;
/// `.head` travels through the pipeline only so the response decoder learns the request's method.
final class PrebuiltRequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    package typealias OutboundIn = HTTPClientRequestPart
    package typealias OutboundOut = ByteBuffer

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head, .end:
            promise?.succeed(())
        case .body(.byteBuffer(let bytes)):
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .body(.fileRegion):
            promise?.fail(ChannelError.operationUnsupported)
        }
    }
}
