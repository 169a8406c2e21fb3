import HTTPTypes
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore
import NIOHTTP1

/// The bytes of HTTP/1.x answers: a head straight from swift-http-types' fields, and the chunked
/// framing of bodies of unknown length.
///
/// Each head is sized first and copied into one buffer in one pass; SwiftNIO's encoder would first
/// convert the fields to `HTTPHeaders` and then append every name, separator and value separately.
enum HTTPResponseEncoding {
    /// How a response body is delimited.
    enum Framing {
        /// `Content-Length` (or a status that has no body).
        case sized
        /// `Transfer-Encoding: chunked`.
        case chunked
        /// The connection's end (HTTP/1.0 without a length).
        case closeDelimited
    }

    /// The framing of `head`'s body for a client speaking `version`; `bodyLength` is the body's
    /// length when known in advance (its `Content-Length` is then in `head`).
    static func framing(of head: HTTPResponse, bodyLength: Int?, version: HTTPVersion) -> Framing {
        let code = head.status.code
        if bodyLength != nil || code < 200 || code == 204 || code == 304 { return .sized }
        // A streamed body whose handler declared its length anyway.
        if head.headerFields[.contentLength] != nil { return .sized }
        return version.minor >= 1 ? .chunked : .closeDelimited
    }

    /// The status line, `head`'s fields, then `Date`, `Connection` (when given) and, for chunked
    /// framing, `Transfer-Encoding`, then the blank line.
    static func head(
        _ head: HTTPResponse,
        version: HTTPVersion,
        date: String,
        connection: String?,
        framing: Framing,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        let code = head.status.code
        let reason = head.status.reasonPhrase
        let isCommon = code == 200 && version == .http1_1
        var size = (isCommon ? 17 : 13 + reason.utf8.count + UnsafeByteWriter.maximumDecimalLength) + 8 + date.utf8.count + 2
        for field in head.headerFields { size += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        if let connection { size += 14 + connection.utf8.count }
        if framing == .chunked { size += chunkedField.utf8.count }
        var buffer = allocator.buffer(capacity: size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { output in
            var writer = UnsafeByteWriter(output)
            if isCommon {
                writer.append("HTTP/1.1 200 OK\r\n")
            } else {
                writer.append(version.minor >= 1 ? "HTTP/1.1 " : "HTTP/1.0 ")
                writer.appendDecimal(code)
                writer.append(UInt8(ascii: " "))
                writer.append(reason)
                writer.append("\r\n")
            }
            for field in head.headerFields {
                writer.append(field.name.rawName)
                writer.append(": ")
                writer.append(field.value)
                writer.append("\r\n")
            }
            writer.append("date: ")
            writer.append(date)
            writer.append("\r\n")
            if let connection {
                writer.append("connection: ")
                writer.append(connection)
                writer.append("\r\n")
            }
            if framing == .chunked { writer.append(chunkedField) }
            writer.append("\r\n")
            return writer.count
        }
        return buffer
    }

    private static let chunkedField = "transfer-encoding: chunked\r\n"

    /// `body` as one chunk: its size in hexadecimal, the bytes, and the line end.
    static func chunk(_ body: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let size = String(body.readableBytes, radix: 16) + "\r\n"
        var buffer = allocator.buffer(capacity: size.utf8.count + body.readableBytes + 2)
        buffer.writeString(size)
        buffer.writeImmutableBuffer(body)
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// The last chunk and the trailer fields, ending a chunked body.
    static func lastChunk(trailers: HTTPFields?, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard let trailers, !trailers.isEmpty else { return ByteBuffer(staticString: "0\r\n\r\n") }
        var text = "0\r\n"
        for field in trailers { text += field.name.rawName + ": " + field.value + "\r\n" }
        text += "\r\n"
        return allocator.buffer(string: text)
    }
}
