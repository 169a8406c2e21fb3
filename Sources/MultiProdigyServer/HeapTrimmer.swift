import Synchronization

/// Gives back the memory a rebuilt structure freed, at most once per ``interval``, off the event loops.
///
/// glibc's allocator keeps one arena per thread that allocated, and keeps what is freed inside an
/// arena for reuse. A large structure rebuilt now and then on whichever thread is free (the key
/// directory, read again on every key change) leaves each arena as large as the largest rebuild it
/// saw, so the resident size creeps up with the number of keys ever created. After such a rebuild,
/// ``rebuilt(now:)`` has ``MemoryReturnService/returnFreeMemory()`` run `malloc_trim` on a thread of
/// SwiftNIO's pool. A rebuild within ``interval`` of the last trim schedules one trim at the end
/// of the interval, which covers every rebuild until then: a burst of key changes is trimmed once
/// after its last rebuild, never more than once per interval.
final class HeapTrimmer: Sendable {
    /// What a rebuild leads to.
    enum Plan: Equatable {
        /// Trim now.
        case now
        /// Trim after this delay (the end of the interval since the last trim).
        case after(Duration)
        /// A trim is already scheduled, after this rebuild: nothing more to do.
        case alreadyScheduled
    }

    private struct State {
        /// When the last trim ran or the scheduled one will.
        var last: ContinuousClock.Instant?
        var scheduled = false
    }

    /// The least time between two trims.
    let interval: Duration
    private let state = Mutex(State())
    private let trim: @Sendable () -> Void

    /// A trimmer that trims at most once per `interval`, with `trim` (the allocator's, by default).
    init(interval: Duration = .seconds(1), trim: @escaping @Sendable () -> Void = { MemoryReturnService.returnFreeMemory() }) {
        self.interval = interval
        self.trim = trim
    }

    /// Notes a rebuild at `now`, and trims now or schedules the trim that will cover it.
    func rebuilt(now: ContinuousClock.Instant = .now) {
        switch plan(now: now) {
        case .now:
            trim()
        case .after(let delay):
            Task { [self] in
                try? await Task.sleep(for: delay)
                state.withLock { $0.scheduled = false }
                trim()
            }
        case .alreadyScheduled:
            break
        }
    }

    /// What a rebuild at `now` leads to, noting the trim it asks for.
    func plan(now: ContinuousClock.Instant) -> Plan {
        state.withLock { state in
            if state.scheduled { return .alreadyScheduled }
            guard let last = state.last, now - last < interval else {
                state.last = now
                return .now
            }
            state.scheduled = true
            state.last = last + interval
            return .after(last + interval - now)
        }
    }
}
