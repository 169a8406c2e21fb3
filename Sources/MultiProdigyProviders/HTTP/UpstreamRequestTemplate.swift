import MultiProdigyCore
import NIOCore
import NIOHTTP1

/// The constant part of one kind of upstream request (method, path, headers), serialised once.
///
/// Each call then costs one buffer: this prefix, its `content-length`, and the body. A provider's
/// headers are fixed (host, content type, credentials, configured extras), so there is no reason
/// to build and encode them again for every request.
struct UpstreamRequestTemplate: Sendable {
    /// Where requests go.
    let endpoint: UpstreamEndpoint
    /// The head given to the response decoder, which needs the method of each request.
    let head: HTTPRequestHead
    private let prefix: ByteBuffer
    /// Where the header lines end in ``prefix`` (before `content-length: ` or the blank line), so a
    /// traced request's trace headers can go in between.
    private let headerLinesEnd: Int
    private let sendsBody: Bool

    /// Prepares `method` requests to `endpoint` with `headers`; nil when a header cannot be sent
    /// verbatim (a CR, LF or NUL in a name or value, a colon or space in a name, or a framing
    /// header the template writes itself).
    init?(method: HTTPMethod = .POST, endpoint: UpstreamEndpoint, headers: HTTPHeaders) {
        var prefix = ByteBuffer()
        // A `Host` the provider's `headers:` sets (a virtual host behind an address) wins.
        let host = headers.first(name: "host") ?? endpoint.hostHeader
        guard Self.isSendable(name: "host", value: host) else { return nil }
        prefix.writeString("\(method.rawValue) \(endpoint.path) HTTP/1.1\r\nhost: \(host)\r\n")
        for (name, value) in headers {
            guard Self.isSendable(name: name, value: value) else { return nil }
            let lowered = name.lowercased()
            guard lowered != "content-length", lowered != "host", lowered != "transfer-encoding", lowered != "connection" else {
                continue
            }
            prefix.writeString("\(name): \(value)\r\n")
        }
        sendsBody = method == .POST || method == .PUT || method == .PATCH
        headerLinesEnd = prefix.writerIndex
        if sendsBody {
            prefix.writeStaticString("content-length: ")
        } else {
            prefix.writeStaticString("\r\n")
        }
        self.endpoint = endpoint
        self.head = HTTPRequestHead(version: .http1_1, method: method, uri: endpoint.path)
        self.prefix = prefix
    }

    /// Whether a header can be written as is: a token name and a value without line breaks.
    static func isSendable(name: String, value: String) -> Bool {
        !name.isEmpty
            && !name.utf8.contains(where: { $0 <= 0x20 || $0 == UInt8(ascii: ":") || $0 == 0x7F })
            && !value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 })
    }

    /// The whole request for `body` (ignored by a method without one), with the trace headers of the
    /// attempt making it, if it is traced.
    func request(with body: ByteBuffer?, trace: UpstreamTraceHeaders? = nil) -> ByteBuffer {
        guard let trace else { return request(with: body) }
        let length = body?.readableBytes ?? 0
        var request = ByteBuffer()
        request.reserveCapacity(prefix.readableBytes + length + 128)
        request.writeImmutableBuffer(prefix.getSlice(at: prefix.readerIndex, length: headerLinesEnd - prefix.readerIndex)!)
        trace.write(into: &request)
        request.writeImmutableBuffer(prefix.getSlice(at: headerLinesEnd, length: prefix.writerIndex - headerLinesEnd)!)
        guard sendsBody else { return request }
        request.writeString(String(length))
        request.writeStaticString("\r\n\r\n")
        if let body { request.writeImmutableBuffer(body) }
        return request
    }

    /// The whole request for `body` (ignored by a method without one).
    func request(with body: ByteBuffer?) -> ByteBuffer {
        guard sendsBody else { return prefix }
        let length = body?.readableBytes ?? 0
        var request = ByteBuffer()
        request.reserveCapacity(prefix.readableBytes + length + 24)
        request.writeImmutableBuffer(prefix)
        request.writeString(String(length))
        request.writeStaticString("\r\n\r\n")
        if let body { request.writeImmutableBuffer(body) }
        return request
    }
}

/// Writes requests that ``UpstreamRequestTemplate`` serialised: `.body` carries the complete bytes;
/// `.head` travels through the pipeline only so the response decoder learns the request's method.
final class PrebuiltRequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
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
