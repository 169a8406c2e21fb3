import MultiProdigyCore
import NIOCore

/// The events of a stream an upstream answered with one JSON `chat.completion` instead of
/// server-sent events (a server that ignores `"stream": true`): the body is read whole when the
/// first event is asked for, and its choices and usage come out as chunks
/// (``ChatCompletionSplitter``), then ``ChatStreamEvent/done``.
///
/// Stopping the body (``UpstreamResponseBody/stop(_:)``) makes the pending read throw, so the
/// gateway's stream limits apply while the answer is awaited.
struct WholeAnswerEvents: AsyncSequence, Sendable {
    typealias Element = ChatStreamEvent
    typealias Failure = any Error

    let body: UpstreamResponseBody
    /// The most bytes the answer may have (`server.max_response_bytes`).
    let maximumBytes: Int

    func makeAsyncIterator() -> Iterator { Iterator(body: body, maximumBytes: maximumBytes) }

    /// Reads the answer at the first call, then hands out its chunks.
    struct Iterator: AsyncIteratorProtocol {
        let body: UpstreamResponseBody
        let maximumBytes: Int
        private var pending: [ByteBuffer]?
        private var ended = false

        init(body: UpstreamResponseBody, maximumBytes: Int) {
            self.body = body
            self.maximumBytes = maximumBytes
        }

        mutating func next() async throws -> ChatStreamEvent? {
            if pending == nil {
                let answer = try await body.collect(upTo: maximumBytes, by: .distantFuture)
                guard let chunks = ChatCompletionSplitter.chunks(of: answer) else {
                    throw ProviderError(
                        kind: .protocolViolation,
                        message: "the upstream answered a stream request with a JSON body that is not a chat completion"
                    )
                }
                pending = chunks.reversed()
            }
            if let chunk = pending?.popLast() { return .chunk(chunk) }
            guard !ended else { return nil }
            ended = true
            return .done
        }
    }
}
