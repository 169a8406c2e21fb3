import MultiProdigyCore
import Synchronization

/// The upstream side of a relay: the provider's events, read by the task that reads the relay
/// (the one writing to the client), under a stream guard's limits.
///
/// There is no task of the relay's own and no queue between the upstream and the client: an event
/// is parsed when the writer asks for one, so a client that reads slowly stops the reads, the
/// upstream connection's buffer fills, and TCP slows the upstream down. The guard's limits run on
/// an event-loop timer (``StreamWatchdog``); when one passes, the events are stopped
/// (``ChatCompletionStream/stop``), so a read waiting for the upstream throws the timeout at once,
/// and so does cancelling the reading task. From the commit on, only the total limit applies while
/// the relay's caller is busy with the client (``StreamGuardStateMachine/waitingForClient()``);
/// the stall limit counts while a read waits for the upstream.
///
/// ```swift
/// let reader = GuardedStreamReader(stream.events, stop: stream.stop, machine: machine)
/// while let event = try await reader.next() { … }
/// ```
///
/// - warning: One task reads at a time (checked). Read to the end, ``release()`` once the last
///   event is in hand, or ``cancel()``: each stops the timer. The first two let the upstream's
///   connection finish its framing and be reused; the last closes it, unless the events had ended.
final class GuardedStreamReader<Element: Sendable>: @unchecked Sendable {
    // @unchecked: `iterator` is touched only inside `next()`, which one task runs at a time
    // (`isReading` traps a second); every other stored property is immutable or `Sendable`.

    /// The guard: the relay records chunks in it, the watchdog reads its deadlines.
    let machine: SharedState<StreamGuardStateMachine>
    private var iterator: any AsyncIteratorProtocol<Element, any Error>
    private let stopEvents: @Sendable (any Error) -> Void
    /// Lets the upstream's connection finish a complete answer's framing and be reused.
    private let releaseEvents: @Sendable () -> Void
    private let watchdog: StreamWatchdog
    /// What ended the stream early, if anything did: a limit that passed (reported instead of the
    /// stop it caused), the upstream's failure, or the cancellation.
    private let failure: SharedState<ProviderError?>
    private let isReading = Atomic(false)
    /// The events ended, or failed: reads return nil, or throw ``failure``.
    private let isFinished = Atomic(false)
    /// `onFinish`, run once: when the events end or fail, or when a limit passes.
    private let finishOnce: ReleaseOnce

    /// Runs its action once, whoever asks first.
    private final class ReleaseOnce: Sendable {
        private let done = Atomic(false)
        private let action: @Sendable () -> Void

        init(_ action: @escaping @Sendable () -> Void) {
            self.action = action
        }

        func run() {
            if !done.exchange(true, ordering: .acquiringAndReleasing) { action() }
        }
    }

    /// Starts guarding `events` with `machine`'s limits.
    ///
    /// - Parameters:
    ///   - stop: Ends `events` early; nil when they cannot be, and then they are read one ahead in a
    ///     task of their own (``TaskFedEvents``).
    ///   - release: Lets the connection finish once the answer is complete (``ChatCompletionStream/release``).
    ///   - onFinish: Called once when the upstream is done with: ended, failed, cancelled, or
    ///     stopped by a limit.
    init(
        _ events: any AsyncSequence<Element, any Error> & Sendable,
        stop: (@Sendable (any Error) -> Void)?,
        release: (@Sendable () -> Void)? = nil,
        machine: SharedState<StreamGuardStateMachine>,
        onFinish: @escaping @Sendable () -> Void = {}
    ) {
        self.releaseEvents = release ?? {}
        if let stop {
            self.iterator = events.makeAsyncIterator()
            self.stopEvents = stop
        } else {
            let fed = TaskFedEvents<Element>(events)
            self.iterator = TaskFedEvents.Iterator(events: fed)
            self.stopEvents = { fed.stop($0) }
        }
        let failure = SharedState<ProviderError?>(nil)
        let stopEvents = self.stopEvents
        let finishOnce = ReleaseOnce(onFinish)
        self.machine = machine
        self.failure = failure
        self.finishOnce = finishOnce
        self.watchdog = StreamWatchdog(machine) { timeout in
            failure.withLock { $0 = $0 ?? timeout }
            machine.withLock { $0.failed() }
            stopEvents(timeout)
            finishOnce.run()
        }
        watchdog.start()
    }

    deinit {
        if !isFinished.load(ordering: .acquiring) {
            watchdog.stop()
            stopEvents(CancellationError())
        }
        finishOnce.run()
    }

    /// The next event, nil once the upstream's stream has ended.
    ///
    /// - Throws: ``ProviderError``: the timeout of a limit that passed, the upstream's failure
    ///   classified, or `cancelled` when the task was cancelled or the reader stopped.
    func next() async throws -> Element? {
        let wasReading = isReading.exchange(true, ordering: .acquiring)
        precondition(!wasReading, "a relay's stream is read by one task at a time")
        defer { isReading.store(false, ordering: .releasing) }
        if let failure = failure.withLock({ $0 }) { throw failure }
        if isFinished.load(ordering: .acquiring) { return nil }
        do {
            // A provider's events need not end on cancellation themselves: stopping them does.
            let element = try await withTaskCancellationHandler {
                try await iterator.next()
            } onCancel: {
                stopEvents(CancellationError())
            }
            guard let element else {
                // The events ended: their connection may still owe the end of its framing.
                finish()
                releaseEvents()
                return nil
            }
            return element
        } catch {
            throw fail(error)
        }
    }

    /// Why the stream cannot go on when the guard ignored an event or saw the events end after it
    /// had finished the attempt: the failure already recorded, else the limit that expired (the
    /// watchdog marks the guard before it records the timeout); nil when neither happened.
    func interruption() -> ProviderError? {
        if let failure = failure.withLock({ $0 }) { return failure }
        guard let kind = machine.withLock({ $0.expiredKind }) else { return nil }
        return fail(ProviderError(kind: .timeout, message: StreamGuardStateMachine.describe(kind)))
    }

    /// Ends the stream because of `error` (the upstream's, or the relay's own verdict on what it
    /// sent), and says how to report it: the timeout if a limit passed first.
    func fail(_ error: any Error) -> ProviderError {
        machine.withLock { $0.failed() }
        let failure = self.failure.withLock { failure -> ProviderError in
            let first = failure ?? ProviderError.classify(Task.isCancelled && !(error is ProviderError) ? CancellationError() : error)
            failure = first
            return first
        }
        // Events that ended, or were released, are left to finish: their connection is reused.
        if !isFinished.load(ordering: .acquiring) { stopEvents(failure) }
        finish()
        return failure
    }

    /// Stops reading the upstream, which closes its connection, unless the events have ended or
    /// were released; later reads throw `cancelled`.
    func cancel() {
        _ = fail(CancellationError())
    }

    /// The caller has all it needs of a complete answer (its last event came): stops the timer and
    /// lets the upstream's connection finish its framing and be reused.
    func release() {
        guard !isFinished.load(ordering: .acquiring), failure.withLock({ $0 }) == nil else { return }
        finish()
        releaseEvents()
    }

    /// The events are done with: stops the timer and releases the upstream's slot, once.
    private func finish() {
        guard !isFinished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        watchdog.stop()
        finishOnce.run()
    }
}
