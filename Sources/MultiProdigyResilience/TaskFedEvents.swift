import Synchronization

/// The events of a sequence that cannot be ended from outside (a custom provider's stream without
/// a `stop`), read at most one ahead in a task of their own, so that a relay can still end them
/// when a limit passes or the client goes away.
///
/// ``next()`` takes the event the task read, or waits for it; ``stop(_:)`` cancels the task and
/// makes a waiting ``next()`` throw at once. One reader at a time.
///
/// ```swift
/// let fed = TaskFedEvents(stream.events)
/// defer { fed.stop(CancellationError()) }
/// while let event = try await fed.next() { … }
/// ```
final class TaskFedEvents<Element: Sendable>: Sendable {
    private struct State: Sendable {
        /// The event read ahead, not taken yet.
        var element: Element?
        /// The sequence ended after its last event.
        var ended = false
        /// Why the events ended early: the sequence's error, or the error they were stopped with.
        var failure: (any Error)?
        /// The reader waiting for an event.
        var reader: CheckedContinuation<Element?, any Error>?
        /// The task, waiting until its event is taken.
        var feeder: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts reading `events` in a task of their own.
    init(_ events: any AsyncSequence<Element, any Error> & Sendable) {
        let feeding = Task { [self] in
            do {
                for try await element in events {
                    guard await hand(element) else { return }
                }
                end(failure: nil)
            } catch {
                end(failure: error)
            }
        }
        task.withLock { $0 = feeding }
    }

    /// The next event, nil at the end.
    ///
    /// - Throws: The sequence's error, the error it was stopped with, or `CancellationError`.
    func next() async throws -> Element? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (reader: CheckedContinuation<Element?, any Error>) in
                let (result, feeder) = state.withLock { state -> (Result<Element?, any Error>?, CheckedContinuation<Void, Never>?) in
                    if let element = state.element {
                        state.element = nil
                        defer { state.feeder = nil }
                        return (.success(element), state.feeder)
                    }
                    if let failure = state.failure { return (.failure(failure), nil) }
                    if state.ended { return (.success(nil), nil) }
                    if Task.isCancelled { return (.failure(CancellationError()), nil) }
                    state.reader = reader
                    return (nil, nil)
                }
                feeder?.resume()
                if let result { reader.resume(with: result) }
            }
        } onCancel: {
            stop(CancellationError())
        }
    }

    /// Ends the events: a waiting ``next()`` and every later one throw `error`, and the task is
    /// cancelled. Does nothing once they have ended.
    func stop(_ error: any Error) {
        let (reader, feeder) = state.withLock { state -> (CheckedContinuation<Element?, any Error>?, CheckedContinuation<Void, Never>?) in
            if !state.ended, state.failure == nil { state.failure = error }
            state.element = nil
            defer {
                state.reader = nil
                state.feeder = nil
            }
            return (state.reader, state.feeder)
        }
        reader?.resume(throwing: error)
        feeder?.resume()
        task.withLock { $0 }?.cancel()
    }

    /// Gives `element` to the reader, waiting until it is taken; false once the events were stopped.
    private func hand(_ element: Element) async -> Bool {
        await withCheckedContinuation { (feeder: CheckedContinuation<Void, Never>) in
            let reader = state.withLock { state -> CheckedContinuation<Element?, any Error>?? in
                guard state.failure == nil else { return .some(nil) }
                if let reader = state.reader {
                    state.reader = nil
                    return reader
                }
                state.element = element
                state.feeder = feeder
                return nil
            }
            switch reader {
            case .some(.some(let reader)):
                reader.resume(returning: element)
                feeder.resume()
            case .some(.none):
                feeder.resume()
            case .none:
                break
            }
        }
        return state.withLock { $0.failure == nil }
    }

    /// The sequence ended, by itself or with `failure`.
    private func end(failure: (any Error)?) {
        let reader = state.withLock { state -> CheckedContinuation<Element?, any Error>? in
            if let failure, state.failure == nil { state.failure = failure }
            if failure == nil { state.ended = true }
            defer { state.reader = nil }
            return state.reader
        }
        guard let reader else { return }
        let result = state.withLock { state -> Result<Element?, any Error> in
            if let failure = state.failure { return .failure(failure) }
            return .success(nil)
        }
        reader.resume(with: result)
    }
}

extension TaskFedEvents {
    /// ``TaskFedEvents`` as an iterator.
    struct Iterator: AsyncIteratorProtocol {
        let events: TaskFedEvents

        mutating func next() async throws -> Element? {
            try await events.next()
        }
    }
}
