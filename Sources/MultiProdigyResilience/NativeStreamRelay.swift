import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyRouting

/// A native stream (a ``NativeAPI`` passed through) that has committed: the events held back until
/// its first content, and the rest as the caller asks for them, unchanged.
///
/// The same guard as a chat stream's (``StreamGuardStateMachine``: first-token, stall and total
/// limits, a watchdog) decides when it commits and when it has failed, and the same reader
/// (``GuardedStreamReader``) reads the upstream in the caller's task. Before the commit a failure
/// is thrown, so the caller can try another target; after it, ``next()`` throws a
/// ``ProviderError``, which the caller reports in-band in the API's own error event. A native
/// answer is not continued on another target: its events are the upstream's own, and another
/// target could not go on with them.
///
/// - warning: Call ``cancel()`` when the client goes away before the stream ended.
public final class NativeStreamRelay: Sendable {
    /// The events held back until commit (`message_start`, `response.created`, ...), then the first
    /// content event.
    public let committedEvents: [SSEEvent]
    private let reader: GuardedStreamReader<SSEEvent>
    private let api: NativeAPI
    private let lease: SharedState<LeaseSlot>

    /// The target's in-flight count, held from the commit until the upstream is done.
    private enum LeaseSlot {
        case empty
        case held(InFlightLease)
        case upstreamDone
    }

    private init(committedEvents: [SSEEvent], reader: GuardedStreamReader<SSEEvent>, api: NativeAPI, lease: SharedState<LeaseSlot>) {
        self.committedEvents = committedEvents
        self.reader = reader
        self.api = api
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

    /// Stops reading the upstream, which closes its connection; ``next()`` then throws `cancelled`.
    /// After ``release()``, or once the events ended, the connection is left to finish.
    public func cancel() {
        reader.cancel()
    }

    /// The caller has the answer's last event (`message_stop`, `response.completed`) and needs
    /// nothing more from the upstream: its connection may finish its framing and be reused.
    public func release() {
        reader.release()
    }

    /// The next event after the committed ones; nil once the API's last event of a complete answer
    /// has come and the upstream ended.
    ///
    /// - Throws: ``ProviderError`` when the answer was cut, stalled, timed out, failed in-band or
    ///   was cancelled.
    public func next() async throws -> SSEEvent? {
        reader.machine.withLock { $0.clientCaughtUp(at: .now) }
        do {
            while let event = try await reader.next() {
                switch try Self.step(event, api: api, machine: reader.machine) {
                case .ignore:
                    // The guard finished the attempt (a limit passed) as this event came.
                    if let interruption = reader.interruption() { throw interruption }
                case .forward, .commit, .holdBack:
                    return event
                }
            }
            if let interruption = reader.interruption() { throw interruption }
            guard reader.machine.withLock({ $0.sourceEnded() }) == .complete else { throw Self.truncated }
            return nil
        } catch {
            throw reader.fail(error)
        }
    }

    /// Starts relaying `stream` and reads it until it commits.
    ///
    /// - Parameters:
    ///   - stream: The provider's events.
    ///   - api: The API they are in, which says what each event means (``NativeStreamEvent``).
    ///   - limits: First-token, stall and total limits for this attempt.
    /// - Throws: ``ProviderError`` when the attempt fails before anything could be sent.
    public static func start(
        _ stream: NativeEventStream,
        api: NativeAPI,
        limits: StreamGuardStateMachine.Limits
    ) async throws -> NativeStreamRelay {
        let machine = SharedState(StreamGuardStateMachine(limits: limits, start: .now, expectedChoices: 1))
        let lease = SharedState(LeaseSlot.empty)
        let reader = GuardedStreamReader(stream.events, stop: stream.stop, release: stream.release, machine: machine) {
            let held = lease.withLock { slot -> InFlightLease? in
                defer { slot = .upstreamDone }
                guard case .held(let lease) = slot else { return nil }
                return lease
            }
            held?.end()
        }
        var heldBack: [SSEEvent] = []
        do {
            while let event = try await reader.next() {
                switch try step(event, api: api, machine: machine) {
                case .holdBack:
                    heldBack.append(event)
                case .commit, .forward:
                    heldBack.append(event)
                    return NativeStreamRelay(committedEvents: heldBack, reader: reader, api: api, lease: lease)
                case .ignore:
                    if let interruption = reader.interruption() { throw interruption }
                }
            }
            if let interruption = reader.interruption() { throw interruption }
            switch machine.withLock({ $0.sourceEnded() }) {
            case .complete where heldBack.isEmpty:
                throw ProviderError(kind: .protocolViolation, message: "the upstream ended its stream without sending any event")
            case .complete:
                return NativeStreamRelay(committedEvents: heldBack, reader: reader, api: api, lease: lease)
            case .truncated:
                throw truncated
            }
        } catch {
            throw reader.fail(error)
        }
    }

    /// Records `event` with the guard and says what to do with it.
    ///
    /// - Throws: ``ProviderError`` (`server`) for the upstream's in-band error event.
    private static func step(
        _ event: SSEEvent,
        api: NativeAPI,
        machine: SharedState<StreamGuardStateMachine>
    ) throws -> StreamGuardStateMachine.ChunkAction {
        let meaning = NativeStreamEvent.classify(event, api: api)
        if case .failure(let message) = meaning {
            // The upstream's own words; the executor (before commit) or the writer (after)
            // scrubs them before anyone sees them.
            throw ProviderError(kind: .server, message: "the upstream reported an error mid-stream: \(message ?? "no message")")
        }
        return machine.withLock { machine in
            let action = machine.chunkReceived(
                at: ContinuousClock.now,
                carriesContent: meaning == .content,
                finishing: meaning == .completion ? [0] : []
            )
            // The event goes to the writer (with those held back, at the commit), and the upstream
            // waits until it asks for the next.
            if action == .forward || action == .commit { machine.waitingForClient() }
            return action
        }
    }

    /// A stream that ended before its answer was complete.
    private static let truncated = ProviderError(
        kind: .protocolViolation,
        message: "the upstream's stream ended before the answer was complete"
    )
}
