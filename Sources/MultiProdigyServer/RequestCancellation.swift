import Synchronization

/// Cancels the task serving one request when its client goes away.
///
/// Hummingbird does not cancel a handler when its client disconnects, so without this an abandoned
/// request would keep an upstream busy (and billing) until it finished, and might even fail over.
///
/// - warning: The task is cancelled through an `UnsafeCurrentTask`, which is valid only while
///   ``run(_:)`` is executing; the slot is disarmed under its lock before `run` returns, so a late
///   ``fire()`` cannot touch a finished task.
final class RequestCancellation: Sendable {
    private struct TaskReference: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private struct State: Sendable {
        var task: TaskReference?
        var fired = false
        /// A ``fire()`` is cancelling `task` outside the lock; `run` must not return meanwhile.
        var cancelling = false
    }

    private let state = Mutex(State())

    /// Interrupts the request: cancels its task if `run` is executing, else makes `run` cancel at once.
    func fire() {
        // Cancelling runs the task's cancellation handlers synchronously, and they may close the
        // connection, which fires again: so cancel outside the lock.
        let task = state.withLock { state -> TaskReference? in
            guard !state.fired else { return nil }
            state.fired = true
            if state.task != nil { state.cancelling = true }
            return state.task
        }
        guard let task else { return }
        task.task.cancel()
        state.withLock { $0.cancelling = false }
    }

    /// Runs `operation` in the current task, cancelling it when ``fire()`` is called.
    func run<Value>(_ operation: () async throws -> Value) async rethrows -> Value {
        withUnsafeCurrentTask { task in
            guard let task else { return }
            let alreadyFired = state.withLock { state in
                if !state.fired { state.task = TaskReference(task: task) }
                return state.fired
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
