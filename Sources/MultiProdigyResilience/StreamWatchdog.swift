import MultiProdigyCore
import NIOCore
import NIOPosix
import Synchronization

/// Enforces a stream's first-token, stall and total limits with one timer on an event loop.
///
/// The timer is set for the guard's next deadline; when it fires and the deadline has moved (a
/// chunk arrived and reset the stall limit), it is set again for the new one, and when a deadline
/// has passed it calls `expire` once with the timeout. A stream that ends in time costs one timer
/// set and cancelled, with no task, no sleeping thread and no dispatch timer.
///
/// ```swift
/// let watchdog = StreamWatchdog(machine) { failure in producer.cancel() }
/// watchdog.start()
/// defer { watchdog.stop() }
/// ```
final class StreamWatchdog: Sendable {
    private struct State: Sendable {
        var timer: Scheduled<Void>?
        var isStopped = false
    }

    private let machine: SharedState<StreamGuardStateMachine>
    private let expire: @Sendable (ProviderError) -> Void
    private let loop: any EventLoop
    private let state = Mutex(State())

    /// A watchdog for the guard `machine`; `expire` gets the timeout when a limit passes.
    init(_ machine: SharedState<StreamGuardStateMachine>, expire: @escaping @Sendable (ProviderError) -> Void) {
        self.machine = machine
        self.expire = expire
        // The caller's loop when it is on one: the stream's connection usually is too.
        self.loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.any()
    }

    /// A watchdog for a relay whose `producer` task reads the upstream: when a limit passes it
    /// marks the guard failed, answers the caller waiting on `commit` and ends `remaining` with the
    /// timeout at once, then cancels the producer (see ``Relay``).
    static func forRelay<Committed: Sendable, Element: Sendable>(
        _ machine: SharedState<StreamGuardStateMachine>,
        commit: OneShotSignal<Committed>,
        remaining: AsyncThrowingStream<Element, any Error>.Continuation
    ) -> Relay {
        let expiry = SharedState<ProviderError?>(nil)
        let producer = SharedState<Task<Void, Never>?>(nil)
        let watchdog = StreamWatchdog(machine) { failure in
            expiry.withLock { $0 = failure }
            machine.withLock { $0.failed() }
            commit.resolve(.failure(failure))
            remaining.finish(throwing: failure)
            producer.withLock { $0 }?.cancel()
        }
        return Relay(watchdog: watchdog, expiry: expiry, producer: producer)
    }

    /// A relay's watchdog, with what it needs from the relay and tells it.
    struct Relay: Sendable {
        /// The watchdog; start it once ``watch(_:)`` has its producer.
        let watchdog: StreamWatchdog
        /// The timeout that ended the stream, if one did: what the producer reports instead of the
        /// cancellation it caused.
        fileprivate let expiry: SharedState<ProviderError?>
        fileprivate let producer: SharedState<Task<Void, Never>?>

        /// Starts watching, cancelling `producer` when a limit passes.
        func watch(_ producer: Task<Void, Never>) {
            self.producer.withLock { $0 = producer }
            watchdog.start()
        }

        /// Why the stream failed with `error`: the watchdog's timeout if it fired, else `error`.
        func failure(for error: any Error) -> ProviderError {
            expiry.withLock { $0 } ?? ProviderError.classify(error)
        }
    }

    /// Checks the limits now, and sets the timer for the next deadline.
    func start() {
        check()
    }

    /// Cancels the timer; the watchdog never fires after this returns.
    func stop() {
        let timer = state.withLock { state -> Scheduled<Void>? in
            state.isStopped = true
            defer { state.timer = nil }
            return state.timer
        }
        timer?.cancel()
    }

    private func check() {
        let now = ContinuousClock.now
        let (expired, wakeUp) = machine.withLock { ($0.expire(at: now), $0.nextCheck(after: now)) }
        if let expired {
            let isLive = state.withLock { state in
                defer { state.isStopped = true }
                return !state.isStopped
            }
            if isLive { expire(ProviderError(kind: .timeout, message: StreamGuardStateMachine.describe(expired))) }
            return
        }
        guard let wakeUp else { return }
        let timer = loop.scheduleTask(deadline: wakeUp.nioDeadline) { [weak self] () -> Void in self?.check() }
        let isStopped = state.withLock { state in
            if !state.isStopped { state.timer = timer }
            return state.isStopped
        }
        if isStopped { timer.cancel() }
    }
}
