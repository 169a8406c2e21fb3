import NIOCore
import Testing

@testable import MultiProdigyJSON
@testable import MultiProdigyProviders
@testable import MultiProdigyCore

/// The stream building blocks adapters share: SSE and NDJSON splitting, and translation.
@Suite struct StreamUnitSequenceTests {
    private func bytes(_ pieces: [String]) -> AsyncThrowingStream<ByteBuffer, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        for piece in pieces { continuation.yield(ByteBuffer(string: piece)) }
        continuation.finish()
        return stream
    }

    private func collect<S: AsyncSequence>(_ sequence: S) async throws -> [S.Element] {
        var elements: [S.Element] = []
        for try await element in sequence { elements.append(element) }
        return elements
    }

    @Test func sseEventsKeepTheirNamesAcrossSplitReads() async throws {
        let events = try await collect(
            SSEEventSequence(bytes(["event: message_start\nda", "ta: {\"a\":1}\n\nevent: ping\ndata: {}\n\n", "data: tail"]))
        )
        #expect(events.map(\.name) == ["message_start", "ping", nil])
        #expect(events.map { String(decoding: $0.data, as: UTF8.self) } == [#"{"a":1}"#, "{}", "tail"])
    }

    @Test func jsonLinesSplitOnNewlinesSkipBlanksAndKeepAnUnterminatedLastLine() async throws {
        let lines = try await collect(JSONLineSequence(bytes(["{\"a\":1}\r\n\n  \n{\"b\"", ":2}\n{\"c\":3}"])))
        #expect(lines.map { String(buffer: $0) } == [#"{"a":1}"#, #"{"b":2}"#, #"{"c":3}"#])
    }

    @Test func jsonLinesOfOnlyWhitespaceYieldNothing() async throws {
        #expect(try await collect(JSONLineSequence(bytes(["\n \r\n", " "]))).isEmpty)
    }

    @Test func translationStopsAtDoneEvenIfTheUpstreamGoesOn() async throws {
        struct Lines: StreamTranslator {
            mutating func translate(_ line: ByteBuffer) throws -> [ChatStreamEvent] {
                String(buffer: line) == "end" ? [.chunk(ByteBuffer(string: "last")), .done] : [.chunk(line)]
            }
            mutating func finish() throws -> [ChatStreamEvent] { [.chunk(ByteBuffer(string: "finish"))] }
        }
        let events = try await collect(TranslatedChatStream(units: JSONLineSequence(bytes(["a\nend\nafter\n"])), translator: Lines()))
        #expect(events == [.chunk(ByteBuffer(string: "a")), .chunk(ByteBuffer(string: "last")), .done])
    }

    @Test func aStreamWithoutItsCompletionSignalEndsWithoutDone() async throws {
        let events = try await collect(
            TranslatedChatStream(units: SSEEventSequence(bytes(["data: {\"x\":1}\n\n"])), translator: OpenAIStreamTranslator())
        )
        #expect(events == [.chunk(ByteBuffer(string: #"{"x":1}"#))])
    }

    @Test func translatorErrorsSurfaceAsProviderErrors() async throws {
        struct Failing: StreamTranslator {
            mutating func translate(_ event: SSEEvent) throws -> [ChatStreamEvent] {
                throw ProviderError(kind: .server, message: "overloaded")
            }
            mutating func finish() throws -> [ChatStreamEvent] { [] }
        }
        await #expect(throws: ProviderError.self) {
            _ = try await collect(TranslatedChatStream(units: SSEEventSequence(bytes(["data: x\n\n"])), translator: Failing()))
        }
    }
}
