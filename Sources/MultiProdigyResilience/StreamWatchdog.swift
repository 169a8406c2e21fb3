import MultiProdigyCore
import NIOCore
import NIOPosix
import Synchronization

/// Enforces a stream's first-token, stall and total limits with one timer on an event loop.
///
/// The timer is set for the guard's next deadline; when it fires and the deadline has moved (a
/// chunk arrived and reset the stall limit), it is set again for the new one, and when a deadline
/// has passed it calls `expire` once with the timeout. Before the commit, and while the relay
/// waits for its client, it looks again every stall interval. A stream costs a timer set every
/// stall interval at most, with no task, no sleeping thread and no dispatch timer.
///
/// ```swift
/// let watchdog = StreamWatchdog(machine) { timeout in stream.stop?(timeout) }
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
