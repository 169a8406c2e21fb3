import NIOCore

/// The body of a request larger than `server.max_request_bytes`: the connection does not buffer it,
/// and reading it fails with `NIOTooManyBytesError`, which the handlers answer with 413.
struct OverLimitRequestBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    /// The limit the body went over.
    let limit: Int

    func makeAsyncIterator() -> Iterator {
        Iterator(limit: limit)
    }

    /// Fails on the first read.
    struct Iterator: AsyncIteratorProtocol {
        let limit: Int

        func next() async throws -> ByteBuffer? {
            throw NIOTooManyBytesError(maxBytes: limit)
        }
    }
}
