import Synchronization

/// A value delivered once, awaited by one task.
///
/// The first ``resolve(_:)`` wins; later ones are ignored, so racing producers (a result and a
/// failure, say) can both call it safely.
package final class OneShotSignal<Value: Sendable>: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Value, any Error>?)
        case resolved(Result<Value, any Error>)
        case consumed
    }

    private let state = Mutex<State>(.waiting(nil))

    /// Creates a signal that has not fired.
    package init() {}

    /// Delivers `result` unless one was delivered already.
    package func resolve(_ result: Result<Value, any Error>) {
        let continuation: CheckedContinuation<Value, any Error>? = state.withLock { state in
            guard case .waiting(let continuation) = state else { return nil }
            if let continuation {
                state = .consumed
                return continuation
            }
            state = .resolved(result)
            return nil
        }
        continuation?.resume(with: result)
    }

    /// Waits for the value.
    package func wait() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<Value, any Error>? = state.withLock { state in
                switch state {
                case .waiting(let existing):
                    precondition(existing == nil, "OneShotSignal supports a single waiter")
                    state = .waiting(continuation)
                    return nil
                case .resolved(let result):
                    state = .consumed
                    return result
                case .consumed:
                    return .failure(CancellationError())
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
