import Synchronization

/// The bytes a relay has handed on for the client and the client has not taken yet, and the
/// relay's wait while they are too many: the back-pressure from a slow client to the upstream.
///
/// The relay adds each chunk it passes on (``add(_:)``); the writer removes it once written
/// (``taken(_:)``). When more than the relay's pause threshold wait, it stops reading the upstream
/// (``waitUntilAtMost(_:)``) until the client has taken enough; the upstream's connection then
/// stops being read too, and TCP slows the upstream down.
///
/// ```swift
/// if pace.add(chunk.readableBytes) > pauseAbove { await pace.waitUntilAtMost(resumeAt) }
/// ```
final class ClientPace: Sendable {
    private struct State {
        var waiting = 0
        var resumeAt = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// An empty pace.
    init() {}

    /// Counts `bytes` more waiting; returns the total.
    func add(_ bytes: Int) -> Int {
        state.withLock { state in
            state.waiting += bytes
            return state.waiting
        }
    }

    /// Counts `bytes` as taken by the client, waking a relay waiting for the total to fall.
    func taken(_ bytes: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.waiting -= bytes
            guard state.waiting <= state.resumeAt, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns once at most `bytes` wait, or when the task is cancelled.
    func waitUntilAtMost(_ bytes: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    guard state.waiting > bytes, !Task.isCancelled else { return true }
                    state.resumeAt = bytes
                    state.waiter = waiter
                    return false
                }
                if ready { waiter.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
