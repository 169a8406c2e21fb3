import MultiProdigyCore
import NIOCore

/// The units of a byte stream, as a ``StreamFramer`` cuts them, as the bytes arrive.
///
/// ``SSEEventSequence`` and ``JSONLineSequence`` are this sequence with the framer of their format.
///
/// ```swift
/// for try await event in SSEEventSequence(response.body) { … }
/// ```
public struct FramedSequence<Bytes: AsyncSequence & Sendable, Framer: StreamFramer>: AsyncSequence, Sendable
where Bytes.Element == ByteBuffer {
    /// Each unit in turn.
    public typealias Element = Framer.Unit
    /// Any error the bytes throw, or ``ProviderError``.
    public typealias Failure = any Error

    private let bytes: Bytes

    /// Cuts `bytes` into units.
    public init(_ bytes: Bytes) {
        self.bytes = bytes
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> Iterator {
        Iterator(bytes: bytes.makeAsyncIterator())
    }

    /// Iterates the units.
    public struct Iterator: AsyncIteratorProtocol {
        var bytes: Bytes.AsyncIterator
        var framer = Framer()
        var pending: [Framer.Unit] = []
        var pendingIndex = 0
        /// The framer's refusal, thrown once the units before it are delivered.
        var failure: ProviderError?
        var ended = false

        /// The next unit, or nil when the bytes have ended.
        public mutating func next() async throws -> Framer.Unit? {
            while true {
                if pendingIndex < pending.count {
                    pendingIndex += 1
                    return pending[pendingIndex - 1]
                }
                pending.removeAll(keepingCapacity: true)
                pendingIndex = 0
                if let failure {
                    self.failure = nil
                    throw failure
                }
                if ended { return nil }
                if let buffer = try await bytes.next() {
                    do {
                        try framer.feed(buffer, into: &pending)
                    } catch {
                        ended = true
                        failure = error
                    }
                } else {
                    ended = true
                    if let last = framer.finish() { pending.append(last) }
                }
            }
        }
    }
}
