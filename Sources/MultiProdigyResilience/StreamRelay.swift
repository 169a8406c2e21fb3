import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyRouting
import NIOCore

/// A streaming attempt that has committed: the chunks to send first, and the rest as they arrive.
///
/// ``start(_:targetName:limits:)`` reads the upstream in a task of its own, guarded by a
/// ``StreamGuardStateMachine`` and a ``StreamWatchdog``, and returns only once the stream commits (its first
/// content chunk) or fails. A failure before commit is thrown, so the caller can try another target;
/// a failure after it ends ``remaining`` with an error, which the caller reports in-band.
///
/// - warning: Call ``cancel()`` when the client goes away; ``remaining``'s termination does it too.
public final class StreamRelay: Sendable {
    /// The chunks held back until commit, `model` already rewritten.
    public let committedChunks: [ByteBuffer]
    /// The chunks after commit. It finishes normally when the answer is complete, and throws a
    /// ``ProviderError`` when it was cut, stalled, timed out or replaced by an in-band error.
    public let remaining: AsyncThrowingStream<ByteBuffer, any Error>
    /// How many chunks were skipped because they were not valid JSON.
    public var malformedChunkCount: Int { counters.withLock { $0 } }
    /// The upstream's report of the tokens used, and the usage chunk to send the client if it asked
    /// for one; nil until it arrives (last, just before the end). The relay never forwards usage
    /// itself: the gateway adds the cost and decides whether the client gets it.
    public var reportedUsage: ReportedUsage? { usage.withLock { $0 } }
    private let producer: Task<Void, Never>
    private let counters: SharedState<Int>
    private let pace: ClientPace
    private let usage: SharedState<ReportedUsage?>

    /// Usage an upstream reported in its stream.
    public struct ReportedUsage: Sendable {
        /// The counts.
        public var usage: TokenUsage
        /// The chunk that carries them, `model` rewritten and `choices` empty.
        public var chunk: ByteBuffer
    }

    private init(
        committedChunks: [ByteBuffer],
        remaining: AsyncThrowingStream<ByteBuffer, any Error>,
        producer: Task<Void, Never>,
        counters: SharedState<Int>,
        pace: ClientPace,
        usage: SharedState<ReportedUsage?>
    ) {
        self.committedChunks = committedChunks
        self.remaining = remaining
        self.producer = producer
        self.counters = counters
        self.pace = pace
        self.usage = usage
    }

    /// Tells the relay `chunk` has been sent to the client, freeing its share of the buffer.
    public func delivered(_ chunk: ByteBuffer) {
        pace.taken(chunk.readableBytes)
    }

    /// Stops reading the upstream, which cancels its HTTP request.
    public func cancel() {
        producer.cancel()
    }

    /// Starts relaying `stream` and waits until it commits.
    ///
    /// - Parameters:
    ///   - stream: The provider's events.
    ///   - targetName: The name every chunk's `model` is rewritten to.
    ///   - limits: First-token, stall and total limits for this attempt.
    ///   - expectedChoices: The client's `n`: how many choices must finish for the answer to be complete.
    ///   - maximumBufferedBytes: How much may wait for a client that reads slower than the upstream
    ///     writes; past it the relay gives up, so a client that stops reading cannot exhaust memory.
    ///   - removesNullUsage: Whether to drop the `"usage": null` an upstream asked for usage puts in
    ///     every chunk (when the client did not ask for usage itself).
    /// - Throws: ``ProviderError`` when the attempt fails before anything could be sent.
    public static func start(
        _ stream: ChatCompletionStream,
        targetName: String,
        limits: StreamGuardStateMachine.Limits,
        expectedChoices: Int = 1,
        maximumBufferedBytes: Int = 32 << 20,
        removesNullUsage: Bool = false
    ) async throws -> StreamRelay {
        let (remaining, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let machine = SharedState(StreamGuardStateMachine(limits: limits, start: .now, expectedChoices: expectedChoices))
        let commit = OneShotSignal<[ByteBuffer]>()
        let malformed = SharedState(0)
        let pace = ClientPace()
        let usage = SharedState<ReportedUsage?>(nil)
        let modelName = JSONWriter.encodedString(targetName)
        let events = stream.events
        // A limit that passes answers the waiting caller at once and stops the upstream; the
        // producer then reports the timeout, not the cancellation it causes.
        let guarded = StreamWatchdog.forRelay(machine, commit: commit, remaining: continuation)
        let producer = Task {
            defer { guarded.watchdog.stop() }
            do {
                try await pump(
                    events,
                    modelName: modelName,
                    machine: machine,
                    commit: commit,
                    continuation: continuation,
                    malformed: malformed,
                    pace: pace,
                    usage: usage,
                    maximumBufferedBytes: maximumBufferedBytes,
                    removesNullUsage: removesNullUsage
                )
                continuation.finish()
            } catch {
                machine.withLock { $0.failed() }
                let failure = guarded.failure(for: error)
                commit.resolve(.failure(failure))
                continuation.finish(throwing: failure)
            }
        }
        guarded.watch(producer)
        continuation.onTermination = { _ in producer.cancel() }
        do {
            let committed = try await withTaskCancellationHandler {
                try await commit.wait()
            } onCancel: {
                producer.cancel()
            }
            return StreamRelay(
                committedChunks: committed,
                remaining: remaining,
                producer: producer,
                counters: malformed,
                pace: pace,
                usage: usage
            )
        } catch {
            producer.cancel()
            throw ProviderError.classify(error)
        }
    }

    /// Hands `element` (`bytes` long) on for the client, and stops reading the upstream while the
    /// client has more than a quarter of `bound` (at most 1 MiB) waiting, until it has taken half
    /// of that: the back-pressure from a slow client to the upstream, whose connection then stops
    /// being read too. Meanwhile only the total limit applies: the upstream is not stalling, the
    /// client is. The chat relay's and ``NativeStreamRelay``'s.
    ///
    /// - Throws: ``ProviderError`` (`protocol`) past `bound` (one element larger than the bound);
    ///   `CancellationError` when the relay was stopped while it waited.
    static func forward<Element: Sendable>(
        _ element: Element,
        bytes: Int,
        to remaining: AsyncThrowingStream<Element, any Error>.Continuation,
        pace: ClientPace,
        bound: Int,
        machine: SharedState<StreamGuardStateMachine>
    ) async throws {
        let waiting = pace.add(bytes)
        guard waiting <= bound else {
            throw ProviderError(kind: .protocolViolation, message: "the client is not reading the answer fast enough")
        }
        remaining.yield(element)
        let pauseAbove = min(1 << 20, max(bound / 4, 1))
        guard waiting > pauseAbove else { return }
        machine.withLock { $0.waitingForClient() }
        await pace.waitUntilAtMost(pauseAbove / 2)
        try Task.checkCancellation()
        machine.withLock { $0.clientCaughtUp(at: .now) }
    }

    private static func pump(
        _ events: any AsyncSequence<ChatStreamEvent, any Error> & Sendable,
        modelName: ByteBuffer,
        machine: SharedState<StreamGuardStateMachine>,
        commit: OneShotSignal<[ByteBuffer]>,
        continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation,
        malformed: SharedState<Int>,
        pace: ClientPace,
        usage: SharedState<ReportedUsage?>,
        maximumBufferedBytes: Int,
        removesNullUsage: Bool
    ) async throws {
        var heldBack: [ByteBuffer] = []
        for try await event in events {
            switch event {
            case .done:
                machine.withLock { $0.doneReceived() }
            case .chunk(let chunk):
                guard let inspected = ChatChunkInspector.inspect(chunk, modelName: modelName, removesNullUsage: removesNullUsage) else {
                    malformed.withLock { $0 += 1 }
                    continue
                }
                if let error = inspected.error {
                    throw ProviderError(
                        kind: .server,
                        message: "the upstream reported an error mid-stream: \(error.message)",
                        upstreamError: error
                    )
                }
                let action = machine.withLock {
                    $0.chunkReceived(
                        at: ContinuousClock.now,
                        carriesContent: inspected.carriesContent,
                        finishing: inspected.finishedChoices
                    )
                }
                if let counts = inspected.usage, let usageChunk = inspected.usageChunk {
                    usage.withLock { $0 = ReportedUsage(usage: counts, chunk: usageChunk) }
                    // A usage-only chunk has nothing else for the client; the gateway sends its own.
                    if inspected.hasNoChoices {
                        if case .commit = action {
                            commit.resolve(.success(heldBack))
                            heldBack = []
                        }
                        continue
                    }
                }
                switch action {
                case .holdBack:
                    heldBack.append(inspected.json)
                case .commit:
                    heldBack.append(inspected.json)
                    commit.resolve(.success(heldBack))
                    heldBack = []
                case .forward:
                    try await forward(
                        inspected.json,
                        bytes: inspected.json.readableBytes,
                        to: continuation,
                        pace: pace,
                        bound: maximumBufferedBytes,
                        machine: machine
                    )
                case .ignore:
                    break
                }
            }
        }
        let (ending, wasCommitted) = machine.withLock { state -> (StreamGuardStateMachine.Ending, Bool) in
            let committed = state.phase != StreamGuardStateMachine.Phase.awaitingContent
            return (state.sourceEnded(), committed)
        }
        switch ending {
        case .complete where !wasCommitted && heldBack.isEmpty:
            throw ProviderError(kind: .protocolViolation, message: "the upstream ended its stream without sending any chunk")
        case .complete:
            commit.resolve(.success(heldBack))
        case .truncated:
            throw ProviderError(
                kind: .protocolViolation,
                message: "the upstream's stream ended before the answer was complete (no finish_reason and no [DONE])"
            )
        }
    }
}
