import MultiProdigyCore
import Synchronization

/// Runs a call to the shared store with a deadline that holds even when the call ignores
/// cancellation: the caller gets ``TimedOut`` at the deadline and the call is cancelled and
/// left to end on its own.
///
/// A task group would not do: it waits for every child before returning, so a store call stuck in
/// a driver that does not check for cancellation would hold the request with it.
enum StoreCallDeadline {
    /// The store did not answer in time.
    struct TimedOut: Error, CustomStringConvertible {
        /// How long it was given.
        let timeout: Duration

        var description: String { "the shared limit store did not answer within \(timeout)" }
    }

    /// The result of `call`, or ``TimedOut`` after `timeout`.
    static func run<Value: Sendable>(
        timeout: Duration,
        _ call: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let race = Race<Value>()
        return try await withCheckedThrowingContinuation { continuation in
            race.start(continuation)
            let work = Task {
                do {
                    race.finish(.success(try await call()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            let timer = Task {
                try? await SlicedSleep.for(timeout)
                guard !Task.isCancelled else { return }
                if race.finish(.failure(TimedOut(timeout: timeout))) { work.cancel() }
            }
            race.onFinish(cancelling: timer)
        }
    }

    /// Resumes a continuation once, with whichever of the call and the timer ends first.
    private final class Race<Value: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Value, any Error>?
            var timer: Task<Void, Never>?
            var isFinished = false
        }

        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<Value, any Error>) {
            state.withLock { $0.continuation = continuation }
        }

        /// Keeps `timer` to cancel when the call ends first (at once, if it already has).
        func onFinish(cancelling timer: Task<Void, Never>) {
            let finished = state.withLock { state in
                state.timer = timer
                return state.isFinished
            }
            if finished { timer.cancel() }
        }

        /// Resumes with `result` unless already resumed; returns whether it did.
        @discardableResult
        func finish(_ result: Result<Value, any Error>) -> Bool {
            let (continuation, timer) = state.withLock { state -> (CheckedContinuation<Value, any Error>?, Task<Void, Never>?) in
                guard !state.isFinished else { return (nil, nil) }
                state.isFinished = true
                defer { state.continuation = nil }
                return (state.continuation, state.timer)
            }
            guard let continuation else { return false }
            timer?.cancel()
            continuation.resume(with: result)
            return true
        }
    }
}
