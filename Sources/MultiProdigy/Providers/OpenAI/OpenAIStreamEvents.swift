import AsyncHTTPClient
import NIOCore

/// The events of an OpenAI-style SSE body: each `data:` payload as a chunk, `[DONE]` as the end.
struct OpenAIStreamEvents: AsyncSequence, Sendable {
    typealias Element = ChatStreamEvent
    typealias Failure = any Error

    let body: HTTPClientResponse.Body

    func makeAsyncIterator() -> Iterator {
        Iterator(upstream: body.makeAsyncIterator())
    }

    struct Iterator: AsyncIteratorProtocol {
        var upstream: HTTPClientResponse.Body.AsyncIterator
        var parser = SSEParser()
        var pending: [SSEEvent] = []
        var pendingIndex = 0
        var upstreamEnded = false

        mutating func next() async throws -> ChatStreamEvent? {
            while true {
                if pendingIndex < pending.count {
                    let event = pending[pendingIndex]
                    pendingIndex += 1
                    if event.isDoneSentinel {
                        // The answer is complete: stop reading, even if the upstream keeps the body open.
                        pending.removeAll()
                        pendingIndex = 0
                        upstreamEnded = true
                        return .done
                    }
                    if event.data.isEmpty { continue }
                    return .chunk(ByteBuffer(bytes: event.data))
                }
                pending.removeAll(keepingCapacity: true)
                pendingIndex = 0
                if upstreamEnded { return nil }
                do {
                    if let buffer = try await upstream.next() {
                        buffer.withUnsafeReadableBytes { parser.feed($0, into: &pending) }
                        if parser.exceededSizeLimit {
                            throw ProviderError(kind: .protocolViolation, message: "the upstream sent a stream event larger than 16 MiB")
                        }
                    } else {
                        upstreamEnded = true
                        if let last = parser.finish() { pending.append(last) }
                    }
                } catch {
                    throw ProviderError.classify(error)
                }
            }
        }
    }
}
