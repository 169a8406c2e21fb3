import Synchronization

/// Whether the gateway's database answers, from the outcome of its recent calls.
///
/// Every call the gateway makes (key refreshes several times a second, ledger commits, budget and
/// rate leases) reports here: `/ready` shows the state, and `multiprodigy_storage_errors_total`
/// counts the failures by operation. Nothing here probes the database on its own.
public final class StorageHealth: Sendable {
    /// What a failed call was doing: the `operation` label of `multiprodigy_storage_errors_total`.
    public typealias Operation = String

    /// The database's state as the last call found it.
    public struct Snapshot: Sendable, Equatable {
        /// Whether the last call succeeded (true before any call).
        public var isAvailable: Bool
        /// When calls started failing, while they fail.
        public var failingSince: ContinuousClock.Instant?
        /// The last failure, without secrets; kept after recovery.
        public var lastError: String?
        /// Failures so far, by operation.
        public var errors: [Operation: Int]
    }

    private let state = Mutex(Snapshot(isAvailable: true, failingSince: nil, lastError: nil, errors: [:]))

    /// A health with no call made yet: available.
    public init() {}

    /// A call succeeded.
    public func succeeded() {
        state.withLock { state in
            guard !state.isAvailable else { return }
            state.isAvailable = true
            state.failingSince = nil
        }
    }

    /// A call doing `operation` failed with `error` (already free of secrets).
    public func failed(_ operation: Operation, error: String, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            if state.isAvailable {
                state.isAvailable = false
                state.failingSince = now
            }
            state.lastError = error
            state.errors[operation, default: 0] += 1
        }
    }

    /// The current state.
    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Whether the last call succeeded.
    public var isAvailable: Bool { state.withLock { $0.isAvailable } }
}
