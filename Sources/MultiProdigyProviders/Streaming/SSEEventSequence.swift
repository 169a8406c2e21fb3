import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore

/// The server-sent events of a byte stream, parsed as they arrive.
///
/// A final event without its blank line is delivered when the bytes end. An event over the
/// parser's 16 MiB limit ends the sequence with a protocol error.
public struct SSEEventSequence<Bytes: AsyncSequence & Sendable>: AsyncSequence, Sendable where Bytes.Element == ByteBuffer {
    /// Each event in turn.
    public typealias Element = SSEEvent
    /// Any error the bytes throw, or ``ProviderError``.
    public typealias Failure = any Error

    private let bytes: Bytes

    /// Parses `bytes`.
    public init(_ bytes: Bytes) {
        self.bytes = bytes
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> Iterator {
        Iterator(bytes: bytes.makeAsyncIterator())
    }

    /// Iterates the events.
    public struct Iterator: AsyncIteratorProtocol {
        var bytes: Bytes.AsyncIterator
        var parser = SSEParser()
        var pending: [SSEEvent] = []
        var pendingIndex = 0
        var ended = false

        /// The next event, or nil when the bytes have ended.
        public mutating func next() async throws -> SSEEvent? {
            while true {
                if pendingIndex < pending.count {
                    pendingIndex += 1
                    return pending[pendingIndex - 1]
                }
                pending.removeAll(keepingCapacity: true)
                pendingIndex = 0
                if ended { return nil }
                if let buffer = try await bytes.next() {
                    buffer.withUnsafeReadableBytes { parser.feed($0, into: &pending) }
                    if parser.exceededSizeLimit {
                        ended = true
                        throw ProviderError(kind: .protocolViolation, message: "the upstream sent a stream event larger than 16 MiB")
                    }
                } else {
                    ended = true
                    if let last = parser.finish() { pending.append(last) }
                }
            }
        }
    }
}
