import NIOCore
import Testing

@testable import MultiProdigyCore
@testable import MultiProdigyResilience

/// `StreamRelay` driven by literal event sequences, without sockets.
@Suite struct StreamRelayTests {
    /// Limits no test here means to reach: long, because a machine running the whole suite can
    /// hold an in-memory stream for seconds, and a limit reached would pass for the error expected.
    private func limits(total: Duration = .seconds(120)) -> StreamGuardStateMachine.Limits {
        .init(firstToken: .seconds(60), stall: .seconds(60), totalDeadline: ContinuousClock.now.advanced(by: total))
    }

    private func events(_ items: [ChatStreamEvent]) -> ChatCompletionStream {
        let (stream, continuation) = AsyncThrowingStream<ChatStreamEvent, any Error>.makeStream()
        for item in items { continuation.yield(item) }
        continuation.finish()
        return ChatCompletionStream(events: stream)
    }

    private static func chunk(_ text: String, finish: Bool = false) -> ChatStreamEvent {
        let reason = finish ? #""stop""# : "null"
        return .chunk(
            ByteBuffer(string: #"{"model":"up","choices":[{"index":0,"delta":{"content":"\#(text)"},"finish_reason":\#(reason)}]}"#)
        )
    }

    @Test func commitsAtFirstContentAndRelaysTheRest() async throws {
        let role = ChatStreamEvent.chunk(
            ByteBuffer(string: #"{"model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#)
        )
        let relay = try await StreamRelay.start(
            events([role, Self.chunk("a"), Self.chunk("b", finish: true), .done]),
            targetName: "declared",
            limits: limits()
        )
        #expect(relay.committedChunks.count == 2, "the role chunk and the first content chunk")
        var rest: [String] = []
        for try await chunk in relay.remaining { rest.append(String(buffer: chunk)) }
        #expect(rest.count == 1)
        #expect(rest[0].contains(#""model":"declared""#))
    }

    /// A consumer that takes chunks but never has them delivered (a client that stops reading)
    /// makes the relay stop reading the upstream once a quarter of the bound waits: it holds no
    /// more, is not mistaken for a stalled upstream, and only the total limit ends it.
    @Test func aClientThatDoesNotReadStopsTheRelayReadingTheUpstream() async throws {
        let many = (0..<50).map { Self.chunk("chunk number \($0)") }
        let started = ContinuousClock.now
        let relay = try await StreamRelay.start(
            events([Self.chunk("first")] + many + [Self.chunk("last", finish: true), .done]),
            targetName: "m",
            limits: .init(
                firstToken: .seconds(60),
                stall: .milliseconds(200),
                totalDeadline: ContinuousClock.now.advanced(by: .seconds(4))
            ),
            maximumBufferedBytes: 500
        )
        var received = 0
        await #expect {
            for try await _ in relay.remaining { received += 1 }
        } throws: { error in
            (error as? ProviderError)?.kind == .timeout && (error as? ProviderError)?.message.contains("total") == true
        }
        #expect(received < 10, "the relay stopped reading once a quarter of the 500 bytes waited")
        #expect(ContinuousClock.now - started >= .seconds(3), "the 200 ms stall limit did not end it")
    }

    @Test func deliveredChunksFreeTheirShareOfTheBuffer() async throws {
        let many = (0..<50).map { Self.chunk("chunk number \($0)") }
        let (stream, continuation) = AsyncThrowingStream<ChatStreamEvent, any Error>.makeStream()
        continuation.yield(Self.chunk("first"))
        let relay = try await StreamRelay.start(
            ChatCompletionStream(events: stream),
            targetName: "m",
            limits: limits(),
            maximumBufferedBytes: 500
        )
        var iterator = relay.remaining.makeAsyncIterator()
        for event in many {
            continuation.yield(event)
            let chunk = try #require(try await iterator.next())
            relay.delivered(chunk)
        }
        continuation.yield(Self.chunk("end", finish: true))
        continuation.yield(.done)
        continuation.finish()
        #expect(try await iterator.next() != nil)
        #expect(try await iterator.next() == nil, "completed normally")
    }
}
