import MultiProdigyCore
import NIOCore

/// The body of a streamed upstream answer, as its connection reads it.
///
/// Each element is everything one socket read brought (possibly several events). Read it to its
/// end, or ``release()`` it once the answer's last event is read, and the connection goes back to
/// the pool; stop early (drop it, cancel the task reading it, or ``stop(_:)``) and the connection
/// is closed, which stops the upstream. One consumer only.
///
/// ```swift
/// let (head, body) = try await transport.open(template, body: request, tls: nil, deadline: deadline)
/// for try await bytes in body { … }
/// ```
public struct UpstreamResponseBody: AsyncSequence, Sendable {
    /// What one read brought.
    public typealias Element = ByteBuffer
    /// Connection and TLS errors, `CancellationError`.
    public typealias Failure = any Error

    /// Closes the connection if the body is dropped before its end.
    fileprivate final class Lease: Sendable {
        let storage: UpstreamBodyStorage

        init(storage: UpstreamBodyStorage) {
            self.storage = storage
        }

        deinit {
            if !storage.isOver, !storage.isReleased { storage.abandon(because: CancellationError()) }
        }
    }

    private let lease: Lease

    init(storage: UpstreamBodyStorage) {
        self.lease = Lease(storage: storage)
    }

    /// Ends the body early: a read waiting for bytes, and every read after it, throws `error`, and
    /// the connection is closed (unless the answer had already ended, and it went back to the pool).
    /// What ``ChatCompletionStream/stop`` needs.
    public func stop(_ error: any Error) {
        lease.storage.abandon(because: error)
    }

    /// Says the reader has all it needs of a complete answer whose body has not ended yet (the
    /// upstream sent its last event; the end of its framing is on the way): the rest is discarded
    /// and the connection goes back to the pool if the body ends within half a second and 64 KiB,
    /// else it is closed. What ``ChatCompletionStream/release`` needs.
    public func release() {
        lease.storage.release()
    }

    /// Starts reading.
    public func makeAsyncIterator() -> Iterator {
        Iterator(lease: lease)
    }

    /// Reads the body.
    public struct Iterator: AsyncIteratorProtocol {
        fileprivate let lease: Lease

        /// The next bytes read, or nil at the end.
        public mutating func next() async throws -> ByteBuffer? {
            try await lease.storage.next()
        }
    }

    /// The whole body, given up on past `limit` bytes or at `deadline`.
    ///
    /// - Throws: ``ProviderError``: kind `timeout` at `deadline`, `protocol` past `limit`, or the
    ///   connection's failure classified.
    public func collect(upTo limit: Int, by deadline: NIODeadline) async throws -> ByteBuffer {
        let storage = lease.storage
        let timer = storage.expire(at: deadline)
        defer { timer?.cancel() }
        var collected = ByteBuffer()
        do {
            while var bytes = try await storage.next() {
                guard collected.readableBytes + bytes.readableBytes <= limit else {
                    storage.abandon(because: NIOTooManyBytesError(maxBytes: limit))
                    throw ProviderError(kind: .protocolViolation, message: "the upstream's answer is larger than \(limit) bytes")
                }
                collected.writeBuffer(&bytes)
            }
        } catch let error as ProviderError {
            throw error
        } catch {
            throw ProviderError.classify(error)
        }
        return collected
    }

}
