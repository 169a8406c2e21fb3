import MultiProdigyCore
import NIOCore

/// The lines of a newline-delimited JSON (NDJSON) byte stream, as they arrive.
///
/// Blank lines are skipped and a trailing `\r` is dropped. A final line without its newline is
/// delivered when the bytes end. A line over 16 MiB ends the sequence with a protocol error.
public typealias JSONLineSequence<Bytes: AsyncSequence & Sendable> = FramedSequence<Bytes, JSONLineFramer>
where Bytes.Element == ByteBuffer

/// Cuts a byte stream into its non-blank lines.
public struct JSONLineFramer: StreamFramer {
    /// The longest line accepted.
    public static var maximumLineBytes: Int { 16 << 20 }

    /// The bytes after the last newline.
    private var buffer = ByteBuffer()
    /// How many of `buffer`'s readable bytes were searched for a newline already (none holds one).
    private var scannedBytes = 0

    /// A framer that has seen no bytes.
    public init() {}

    /// Appends `bytes`, and each non-blank line they complete, without its line break.
    ///
    /// - Throws: ``ProviderError`` (`protocol`) when the unfinished line passes
    ///   ``maximumLineBytes``; the lines before it are kept.
    public mutating func feed(_ bytes: ByteBuffer, into units: inout [ByteBuffer]) throws(ProviderError) {
        var bytes = bytes
        buffer.discardReadBytes()
        buffer.writeBuffer(&bytes)
        // Only the new bytes are searched: the unfinished line before them holds no newline, and
        // searching it again on every read would make a long line's cost grow with its square.
        var searchFrom = buffer.readerIndex + scannedBytes
        while let newline = buffer.readableBytesView[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) {
            var line = buffer.readSlice(length: newline - buffer.readerIndex)!
            buffer.moveReaderIndex(forwardBy: 1)
            searchFrom = buffer.readerIndex
            if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
            if line.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            units.append(line)
        }
        scannedBytes = buffer.readableBytes
        guard buffer.readableBytes <= Self.maximumLineBytes else {
            buffer.clear()
            scannedBytes = 0
            throw ProviderError(kind: .protocolViolation, message: "the upstream sent a stream line larger than 16 MiB")
        }
    }

    /// The last line when it had no newline and is not blank.
    public mutating func finish() -> ByteBuffer? {
        guard buffer.readableBytes > 0 else { return nil }
        let rest = buffer
        buffer.clear()
        scannedBytes = 0
        if rest.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
        return rest
    }
}
