import HTTPTypes
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

    /// The framing of `head`'s body for a client speaking `version`.
    static func framing(of head: HTTPResponse, version: HTTPVersion) -> Framing {
        let code = head.status.code
        if code < 200 || code == 204 || code == 304 || head.headerFields[.contentLength] != nil { return .sized }
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
        let statusLine = "HTTP/\(version.major).\(version.minor) \(head.status.code) \(head.status.reasonPhrase)\r\n"
        var size = statusLine.utf8.count + "date: \r\n".utf8.count + date.utf8.count + 2
        for field in head.headerFields { size += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        if let connection { size += "connection: \r\n".utf8.count + connection.utf8.count }
        if framing == .chunked { size += chunkedField.utf8.count }
        var buffer = allocator.buffer(capacity: size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { output in
            var cursor = Cursor(output: output)
            cursor.append(statusLine)
            for field in head.headerFields {
                cursor.append(field.name.rawName)
                cursor.append(": ")
                cursor.append(field.value)
                cursor.append("\r\n")
            }
            cursor.append("date: ")
            cursor.append(date)
            cursor.append("\r\n")
            if let connection {
                cursor.append("connection: ")
                cursor.append(connection)
                cursor.append("\r\n")
            }
            if framing == .chunked { cursor.append(chunkedField) }
            cursor.append("\r\n")
            return cursor.offset
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

    /// Copies strings' UTF-8 into a buffer sized for them.
    private struct Cursor {
        let output: UnsafeMutableRawBufferPointer
        var offset = 0

        mutating func append(_ text: String) {
            var text = text
            text.withUTF8 { bytes in
                guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
                (output.baseAddress! + offset).copyMemory(from: source, byteCount: bytes.count)
                offset += bytes.count
            }
        }
    }
}
