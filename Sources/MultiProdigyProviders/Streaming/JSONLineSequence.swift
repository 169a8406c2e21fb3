import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore

/// The lines of a newline-delimited JSON (NDJSON) byte stream, as they arrive.
///
/// Blank lines are skipped and a trailing `\r` is dropped. A final line without its newline is
/// delivered when the bytes end. A line over 16 MiB ends the sequence with a protocol error.
public struct JSONLineSequence<Bytes: AsyncSequence & Sendable>: AsyncSequence, Sendable where Bytes.Element == ByteBuffer {
    /// Each line, without its line break.
    public typealias Element = ByteBuffer
    /// Any error the bytes throw, or ``ProviderError``.
    public typealias Failure = any Error

    /// The longest line accepted.
    public static var maximumLineBytes: Int { 16 << 20 }

    private let bytes: Bytes

    /// Splits `bytes` into lines.
    public init(_ bytes: Bytes) {
        self.bytes = bytes
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> Iterator {
        Iterator(bytes: bytes.makeAsyncIterator())
    }

    /// Iterates the lines.
    public struct Iterator: AsyncIteratorProtocol {
        var bytes: Bytes.AsyncIterator
        var buffer = ByteBuffer()
        var ended = false

        /// The next non-blank line, or nil when the bytes have ended.
        public mutating func next() async throws -> ByteBuffer? {
            while true {
                if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    var line = buffer.readSlice(length: newline - buffer.readerIndex)!
                    buffer.moveReaderIndex(forwardBy: 1)
                    if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
                    if line.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                    return line
                }
                if ended {
                    guard buffer.readableBytes > 0 else { return nil }
                    let rest = buffer
                    buffer.clear()
                    if rest.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
                    return rest
                }
                guard buffer.readableBytes <= JSONLineSequence.maximumLineBytes else {
                    ended = true
                    buffer.clear()
                    throw ProviderError(kind: .protocolViolation, message: "the upstream sent a stream line larger than 16 MiB")
                }
                if var more = try await bytes.next() {
                    buffer.discardReadBytes()
                    buffer.writeBuffer(&more)
                } else {
                    ended = true
                }
            }
        }
    }
}
