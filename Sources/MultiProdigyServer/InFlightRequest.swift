import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import Synchronization

/// The task answering a connection's current request, so that the connection's lifetime (and so
/// the server's drain on shutdown) covers the request's handler to its end: its accounting
/// included, even after the client is gone.
final class InFlightRequest: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Creates an empty slot.
    init() {}

    /// Keeps `task` as the current one; a connection answers one request at a time.
    func track(_ task: Task<Void, Never>) {
        self.task.withLock { $0 = task }
    }

    /// Waits for the current task, if any, to end.
    func wait() async {
        let current = task.withLock { $0 }
        await current?.value
    }

    /// Cancels the current task, if any.
    func cancel() {
        task.withLock { $0 }?.cancel()
    }
}
