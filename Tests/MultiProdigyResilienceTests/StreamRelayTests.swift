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

    /// A relay over a stoppable three-chunk answer that counts the events read.
    private static func startCounting(stall: Duration, total: Duration) async throws -> (StreamRelay, SharedState<Int>) {
        let pulled = SharedState(0)
        let source = CountingEvents(events: [chunk("first"), chunk("second"), chunk("last", finish: true), .done], pulled: pulled)
        let relay = try await StreamRelay.start(
            ChatCompletionStream(events: source, stop: { _ in }),
            targetName: "m",
            limits: .init(firstToken: .seconds(60), stall: stall, totalDeadline: .now.advanced(by: total))
        )
        return (relay, pulled)
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
        while let chunk = try await relay.next() { rest.append(String(buffer: chunk)) }
        #expect(rest.count == 1)
        #expect(rest[0].contains(#""model":"declared""#))
    }

    /// The relay reads the upstream only when asked: a reader that stops asking leaves the rest of
    /// the stream unread (the upstream's connection then fills, and TCP slows the upstream), and
    /// the pause is not taken for a stalled upstream.
    @Test func aReaderThatStopsAskingStopsTheUpstreamBeingRead() async throws {
        let pulled = SharedState(0)
        let many = (0..<50).map { Self.chunk("chunk number \($0)") }
        let source = CountingEvents(events: [Self.chunk("first")] + many + [Self.chunk("last", finish: true), .done], pulled: pulled)
        let relay = try await StreamRelay.start(
            ChatCompletionStream(events: source, stop: { _ in }),
            targetName: "m",
            limits: .init(firstToken: .seconds(60), stall: .milliseconds(200), totalDeadline: .now.advanced(by: .seconds(60)))
        )
        #expect(pulled.withLock { $0 } == 1, "read up to the commit only")
        #expect(try await relay.next() != nil)
        #expect(try await relay.next() != nil)
        #expect(pulled.withLock { $0 } == 3, "one event per chunk asked for")
        // A reader busy with its client for longer than the stall limit, then asking again.
        try await Task.sleep(for: .milliseconds(600))
        #expect(pulled.withLock { $0 } == 3, "nothing read while the reader was away")
        #expect(try await relay.next() != nil, "a pause of the reader is not a stalled upstream")
        relay.cancel()
    }

    /// While the reader is away only the total limit runs, and it still ends the stream.
    @Test func theTotalLimitEndsAStreamWhoseReaderIsAway() async throws {
        let (relay, pulled) = try await Self.startCounting(stall: .seconds(60), total: .seconds(1))
        try await Task.sleep(for: .milliseconds(1500))
        await #expect {
            _ = try await relay.next()
        } throws: { error in
            (error as? ProviderError)?.kind == .timeout && (error as? ProviderError)?.message.contains("total") == true
        }
        #expect(pulled.withLock { $0 } == 1, "nothing read after the commit")
    }

    /// An upstream silent after commit while the reader waits for it is stalled; one that cannot be
    /// stopped from outside (no `stop`) is read in a task of its own, which the limit ends as well.
    @Test(arguments: [true, false])
    func anUpstreamSilentWhileTheReaderWaitsFailsAtTheStallLimit(stoppable: Bool) async throws {
        let (stream, continuation) = AsyncThrowingStream<ChatStreamEvent, any Error>.makeStream()
        continuation.yield(Self.chunk("first"))
        let stopped = SharedState<String?>(nil)
        let events =
            stoppable
            ? ChatCompletionStream(
                events: stream,
                stop: { error in
                    stopped.withLock { $0 = "\(error)" }
                    continuation.finish(throwing: error)
                }
            )
            : ChatCompletionStream(events: stream)
        let relay = try await StreamRelay.start(
            events,
            targetName: "m",
            limits: .init(firstToken: .seconds(60), stall: .milliseconds(200), totalDeadline: .now.advanced(by: .seconds(60)))
        )
        let started = ContinuousClock.now
        await #expect {
            _ = try await relay.next()
        } throws: { error in
            (error as? ProviderError)?.kind == .timeout && (error as? ProviderError)?.message.contains("stopped sending") == true
        }
        // Well short of the 60 s first-token and total limits, however loaded the machine (the whole
        // test run on two cores has delayed a 200 ms timer by 5.6 s).
        #expect(ContinuousClock.now - started < .seconds(30))
        if stoppable { #expect(stopped.withLock { $0 } != nil, "the upstream was told to stop") }
        continuation.finish()
    }

    /// ``StreamRelay/cancel()`` from another task ends a read waiting for the upstream at once.
    @Test func cancelEndsAWaitingRead() async throws {
        let (stream, continuation) = AsyncThrowingStream<ChatStreamEvent, any Error>.makeStream()
        continuation.yield(Self.chunk("first"))
        let relay = try await StreamRelay.start(ChatCompletionStream(events: stream), targetName: "m", limits: limits())
        let reading = Task { try await relay.next() }
        try await Task.sleep(for: .milliseconds(100))
        relay.cancel()
        await #expect {
            _ = try await reading.value
        } throws: { error in
            (error as? ProviderError)?.kind == .cancelled
        }
        continuation.finish()
    }

    /// From review: between the commit and the first ``StreamRelay/next()`` the caller writes the
    /// committed chunks to its client, which a slow client makes long; that is not an upstream
    /// stall (a continuation that commits while the client is slow was cut as "stalled").
    @Test func aPauseBetweenTheCommitAndTheFirstReadIsNotAStall() async throws {
        let (relay, _) = try await Self.startCounting(stall: .milliseconds(200), total: .seconds(60))
        try await Task.sleep(for: .milliseconds(600))
        var rest = 0
        while try await relay.next() != nil { rest += 1 }
        #expect(rest == 2)
    }

    /// From review: a provider whose reads end only when it is stopped (not on task cancellation)
    /// is stopped when the reading task is cancelled (the client went away), and the read reports
    /// the cancellation, not a stall.
    @Test func cancellingTheReadingTaskStopsAStreamThatIgnoresCancellation() async throws {
        let source = StopOnlyEvents(first: Self.chunk("first"))
        let relay = try await StreamRelay.start(
            ChatCompletionStream(events: source, stop: { source.stop($0) }),
            targetName: "m",
            limits: .init(firstToken: .seconds(60), stall: .seconds(60), totalDeadline: .now.advanced(by: .seconds(60)))
        )
        let started = ContinuousClock.now
        let reading = Task { try await relay.next() }
        try await Task.sleep(for: .milliseconds(100))
        reading.cancel()
        await #expect {
            _ = try await reading.value
        } throws: { error in
            (error as? ProviderError)?.kind == .cancelled
        }
        #expect(ContinuousClock.now - started < .seconds(30), "the read ended when its task was cancelled, not at the stall limit")
        #expect(source.wasStopped)
    }

    /// A stream that ends without a finish reason or `[DONE]` after commit is cut, not complete.
    @Test func aStreamEndingWithoutItsEndIsCut() async throws {
        let relay = try await StreamRelay.start(events([Self.chunk("a"), Self.chunk("b")]), targetName: "m", limits: limits())
        #expect(try await relay.next() != nil)
        await #expect {
            _ = try await relay.next()
        } throws: { error in
            (error as? ProviderError)?.kind == .protocolViolation
        }
    }
}

/// Events from a list, counting how many were read.
private struct CountingEvents: AsyncSequence, Sendable {
    typealias Element = ChatStreamEvent
    let events: [ChatStreamEvent]
    let pulled: SharedState<Int>

    struct AsyncIterator: AsyncIteratorProtocol {
        let events: [ChatStreamEvent]
        let pulled: SharedState<Int>
        var index = 0

        mutating func next() async throws -> ChatStreamEvent? {
            guard index < events.count else { return nil }
            defer { index += 1 }
            pulled.withLock { $0 += 1 }
            return events[index]
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(events: events, pulled: pulled)
    }
}

/// Yields `first`, then waits until ``stop(_:)`` is called; ignores task cancellation.
private final class StopOnlyEvents: AsyncSequence, Sendable {
    typealias Element = ChatStreamEvent

    private struct State {
        var given = false
        var stopped: (any Error)?
        var waiter: CheckedContinuation<ChatStreamEvent?, any Error>?
    }

    private let first: ChatStreamEvent
    private let state = SharedState(State())

    init(first: ChatStreamEvent) {
        self.first = first
    }

    var wasStopped: Bool { state.withLock { $0.stopped != nil } }

    func stop(_ error: any Error) {
        let waiter = state.withLock { state -> CheckedContinuation<ChatStreamEvent?, any Error>? in
            state.stopped = error
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: error)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let owner: StopOnlyEvents

        mutating func next() async throws -> ChatStreamEvent? {
            try await owner.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(owner: self)
    }

    private func next() async throws -> ChatStreamEvent? {
        let isFirst = state.withLock { state -> Bool in
            defer { state.given = true }
            return !state.given
        }
        if isFirst { return first }
        return try await withCheckedThrowingContinuation { waiter in
            let stopped = state.withLock { state -> (any Error)? in
                if let stopped = state.stopped { return stopped }
                state.waiter = waiter
                return nil
            }
            if let stopped { waiter.resume(throwing: stopped) }
        }
    }
}
