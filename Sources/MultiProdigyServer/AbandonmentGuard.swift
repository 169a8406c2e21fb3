import MultiProdigyResilience
import Synchronization

/// Runs an action when it is released still armed: the accounting of a streamed response whose
/// body never ran (the client went away between the stream's commit and the response head).
///
/// ```swift
/// let guard = AbandonmentGuard { accounting.finish(outcome, settling: reservation) }
/// let body = ResponseBody { writer in
///     guard.disarm()  // from here on the body accounts for itself
///     …
/// }
/// ```
final class AbandonmentGuard: Sendable {
    private let action: Mutex<(@Sendable () -> Void)?>

    /// Arms the guard with `action`.
    init(_ action: @escaping @Sendable () -> Void) {
        self.action = Mutex(action)
    }

    /// Forgets the action.
    func disarm() {
        action.withLock { $0 = nil }
    }

    deinit {
        action.withLock { $0 }?()
    }
}
