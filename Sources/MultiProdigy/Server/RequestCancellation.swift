import Synchronization

/// Cancels the task serving one request when its client goes away, and remembers that it did.
///
/// Hummingbird does not cancel a handler when its client disconnects, so without this an abandoned
/// request would keep an upstream busy (and billing) until it finished, and might even fail over.
///
/// - warning: The task is cancelled through an `UnsafeCurrentTask`, which is valid only while
///   ``run(_:)`` is executing; the slot is disarmed under its lock before `run` returns, so a late
///   ``fire(_:)`` cannot touch a finished task.
final class RequestCancellation: Sendable {
    /// Why a request was interrupted.
    enum Reason: Sendable, Equatable {
        /// The client closed its connection (or its sending side).
        case clientDisconnected
    }

    private struct TaskReference: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private struct State: Sendable {
        var task: TaskReference?
        var reason: Reason?
        /// A ``fire(_:)`` is cancelling `task` outside the lock; `run` must not return meanwhile.
        var cancelling = false
    }

    private let state = Mutex(State())

    /// Why the request was interrupted, if it was.
    var reason: Reason? { state.withLock { $0.reason } }

    /// Interrupts the request: cancels its task if `run` is executing, else makes `run` cancel at once.
    func fire(_ reason: Reason) {
        // Cancelling runs the task's cancellation handlers synchronously, and they may close the
        // connection, which fires again: so cancel outside the lock.
        let task = state.withLock { state -> TaskReference? in
            guard state.reason == nil else { return nil }
            state.reason = reason
            if state.task != nil { state.cancelling = true }
            return state.task
        }
        guard let task else { return }
        task.task.cancel()
        state.withLock { $0.cancelling = false }
    }

    /// Runs `operation` in the current task, cancelling it when ``fire(_:)`` is called.
    func run<Value>(_ operation: () async throws -> Value) async rethrows -> Value {
        withUnsafeCurrentTask { task in
            guard let task else { return }
            let alreadyFired = state.withLock { state in
                if state.reason == nil { state.task = TaskReference(task: task) }
                return state.reason != nil
            }
            if alreadyFired { task.cancel() }
        }
        defer {
            // Wait out a cancel in progress on another thread: it holds a reference to this task.
            while state.withLock({ state in
                if state.cancelling { return true }
                state.task = nil
                return false
            }) {}
        }
        return try await operation()
    }
}
