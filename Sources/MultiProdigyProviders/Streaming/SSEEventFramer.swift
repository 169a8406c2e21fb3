import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// The server-sent events of a byte stream, parsed as they arrive.
///
/// A final event without its blank line is delivered when the bytes end. An event over the
/// parser's 16 MiB limit ends the sequence with a protocol error.
public typealias SSEEventSequence<Bytes: AsyncSequence & Sendable> = FramedSequence<Bytes, SSEEventFramer>
where Bytes.Element == ByteBuffer

/// Cuts a byte stream into server-sent events with an ``SSEParser``.
public struct SSEEventFramer: StreamFramer {
    private var parser = SSEParser()

    /// A framer that has seen no bytes.
    public init() {}

    /// Parses `bytes`, appending the events they complete.
    ///
    /// - Throws: ``ProviderError`` (`protocol`) when an event passes 16 MiB; the events the same
    ///   bytes completed before it are dropped with it.
    public mutating func feed(_ bytes: ByteBuffer, into units: inout [SSEEvent]) throws(ProviderError) {
        let before = units.count
        bytes.withUnsafeReadableBytes { parser.feed($0, into: &units) }
        guard !parser.exceededSizeLimit else {
            units.removeSubrange(before...)
            throw ProviderError(kind: .protocolViolation, message: "the upstream sent a stream event larger than 16 MiB")
        }
    }

    /// The event the bytes left without its blank line, if any.
    public mutating func finish() -> SSEEvent? {
        parser.finish()
    }
}
