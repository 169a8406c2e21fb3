import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyRouting

/// A native stream (a ``NativeAPI`` passed through) that has committed: the events held back until
/// its first content, and the rest as they arrive, unchanged.
///
/// The same guard as a chat stream's (``StreamGuardStateMachine``: first-token, stall and total
/// limits, a watchdog) decides when it commits and when it has failed. Before the commit a failure
/// is thrown, so the caller can try another target; after it, ``remaining`` ends by throwing a
/// ``ProviderError``, which the caller reports in-band in the API's own error event. A native
/// answer is not continued on another target: its events are the upstream's own, and another
/// target could not go on with them.
///
/// - warning: Call ``cancel()`` when the client goes away; ``remaining``'s termination does it too.
public final class NativeStreamRelay: Sendable {
    /// The events held back until commit (`message_start`, `response.created`, ...), then the first
    /// content event.
    public let committedEvents: [SSEEvent]
    /// The events after commit. It finishes normally once the API's last event of a complete
    /// answer has come and the upstream ended; it throws when the answer was cut, stalled, timed
    /// out, or failed in-band.
    public let remaining: AsyncThrowingStream<SSEEvent, any Error>
    private let producer: Task<Void, Never>
    private let pace: ClientPace
    private let lease: SharedState<LeaseSlot>

    /// The target's in-flight count, held from the commit until the upstream is done.
    private enum LeaseSlot {
        case empty
        case held(InFlightLease)
        case upstreamDone
    }

    private init(
        committedEvents: [SSEEvent],
        remaining: AsyncThrowingStream<SSEEvent, any Error>,
        producer: Task<Void, Never>,
        pace: ClientPace,
        lease: SharedState<LeaseSlot>
    ) {
        self.committedEvents = committedEvents
        self.remaining = remaining
        self.producer = producer
        self.pace = pace
        self.lease = lease
    }

    /// Counts the answer in flight to its target by `lease` until the upstream is done with it.
    func hold(_ lease: InFlightLease) {
        let endsNow = self.lease.withLock { slot -> Bool in
            guard case .empty = slot else { return true }
            slot = .held(lease)
            return false
        }
        if endsNow { lease.end() }
    }

    /// Tells the relay `event` has been sent to the client, freeing its share of the buffer.
    public func delivered(_ event: SSEEvent) {
        pace.taken(event.data.count)
    }

    /// Stops reading the upstream, which cancels its HTTP request.
    public func cancel() {
        producer.cancel()
    }

    /// Starts relaying `stream` and waits until it commits.
    ///
    /// - Parameters:
    ///   - stream: The provider's events.
    ///   - api: The API they are in, which says what each event means (``NativeStreamEvent``).
    ///   - limits: First-token, stall and total limits for this attempt.
    ///   - maximumBufferedBytes: How much may wait for a client that reads slower than the upstream
    ///     writes; past it the relay gives up, so a client that stops reading cannot exhaust memory.
    /// - Throws: ``ProviderError`` when the attempt fails before anything could be sent.
    public static func start(
        _ stream: NativeEventStream,
        api: NativeAPI,
        limits: StreamGuardStateMachine.Limits,
        maximumBufferedBytes: Int = 32 << 20
    ) async throws -> NativeStreamRelay {
        let (remaining, continuation) = AsyncThrowingStream<SSEEvent, any Error>.makeStream()
        let machine = SharedState(StreamGuardStateMachine(limits: limits, start: .now, expectedChoices: 1))
        let commit = OneShotSignal<[SSEEvent]>()
        let pace = ClientPace()
        let lease = SharedState(LeaseSlot.empty)
        let events = stream.events
        // A limit that passes answers the waiting caller at once and stops the upstream; the
        // producer then reports the timeout, not the cancellation it causes.
        let guarded = StreamWatchdog.forRelay(machine, commit: commit, remaining: continuation)
        let producer = Task {
            defer {
                guarded.watchdog.stop()
                let held = lease.withLock { slot -> InFlightLease? in
                    defer { slot = .upstreamDone }
                    guard case .held(let lease) = slot else { return nil }
                    return lease
                }
                held?.end()
            }
            do {
                try await pump(
                    events,
                    api: api,
                    machine: machine,
                    commit: commit,
                    continuation: continuation,
                    pace: pace,
                    maximumBufferedBytes: maximumBufferedBytes
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
            return NativeStreamRelay(committedEvents: committed, remaining: remaining, producer: producer, pace: pace, lease: lease)
        } catch {
            producer.cancel()
            throw ProviderError.classify(error)
        }
    }

    private static func pump(
        _ events: any AsyncSequence<SSEEvent, any Error> & Sendable,
        api: NativeAPI,
        machine: SharedState<StreamGuardStateMachine>,
        commit: OneShotSignal<[SSEEvent]>,
        continuation: AsyncThrowingStream<SSEEvent, any Error>.Continuation,
        pace: ClientPace,
        maximumBufferedBytes: Int
    ) async throws {
        var heldBack: [SSEEvent] = []
        for try await event in events {
            let meaning = NativeStreamEvent.classify(event, api: api)
            if case .failure(let message) = meaning {
                // The upstream's own words; the executor (before commit) or the writer (after)
                // scrubs them before anyone sees them.
                throw ProviderError(
                    kind: .server,
                    message: "the upstream reported an error mid-stream: \(message ?? "no message")"
                )
            }
            let action = machine.withLock {
                $0.chunkReceived(at: ContinuousClock.now, carriesContent: meaning == .content, finishing: meaning == .completion ? [0] : [])
            }
            switch action {
            case .holdBack:
                heldBack.append(event)
            case .commit:
                heldBack.append(event)
                commit.resolve(.success(heldBack))
                heldBack = []
            case .forward:
                try await StreamRelay.forward(
                    event,
                    bytes: event.data.count,
                    to: continuation,
                    pace: pace,
                    bound: maximumBufferedBytes,
                    machine: machine
                )
            case .ignore:
                break
            }
        }
        let (ending, wasCommitted) = machine.withLock { state -> (StreamGuardStateMachine.Ending, Bool) in
            let committed = state.phase != StreamGuardStateMachine.Phase.awaitingContent
            return (state.sourceEnded(), committed)
        }
        switch ending {
        case .complete where !wasCommitted && heldBack.isEmpty:
            throw ProviderError(kind: .protocolViolation, message: "the upstream ended its stream without sending any event")
        case .complete:
            commit.resolve(.success(heldBack))
        case .truncated:
            throw ProviderError(kind: .protocolViolation, message: "the upstream's stream ended before the answer was complete")
        }
    }
}
