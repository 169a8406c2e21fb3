import MultiProdigyConfig
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import Synchronization

/// Lets one task at a time through a critical section that suspends, in arrival order.
///
/// `Mutex` may not be held across `await`; this may. Waiting is not cancellable, so keep the
/// section short and bounded (``UsageLedger`` runs one SQLite transaction in it).
final class AsyncTurnstile: Sendable {
    private struct State {
        var isBusy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Creates an open turnstile.
    init() {}

    /// Runs `body` once every task that arrived earlier has finished its own.
    func withTurn<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state in
                if state.isBusy {
                    state.waiters.append(continuation)
                    return false
                }
                state.isBusy = true
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.isBusy = false
                return nil
            }
            // The turn passes straight to the next waiter: `isBusy` stays set.
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
