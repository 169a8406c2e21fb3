import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyResilience
import MultiProdigyRouting
import Synchronization

/// Counts the gateway's client connections against `server.max_connections`.
///
/// A connection over the limit is answered 503 and closed as soon as it is accepted, so one
/// client opening thousands of idle connections cannot take every file descriptor the process has.
final class ConnectionLimiter: Sendable {
    private let open = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)
    private let limit: @Sendable () -> Int

    /// Counts connections against the limit `limit` returns, read as each connection opens (so a
    /// reload applies to the next one).
    init(limit: @escaping @Sendable () -> Int) {
        self.limit = limit
    }

    /// The connections open now.
    var openConnections: Int { open.load(ordering: .relaxed) }

    /// Counts a new connection: true when it is within the limit; when false it was not counted.
    func admit() -> Bool {
        let limit = limit()
        let now = open.wrappingAdd(1, ordering: .relaxed).newValue
        guard now <= limit else {
            open.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        peak.max(now, ordering: .relaxed)
        return true
    }

    /// The most connections open at once since the last call, which starts the next period at the
    /// connections open now.
    func takePeak() -> Int {
        peak.exchange(openConnections, ordering: .relaxed)
    }

    /// Counts a connection admitted by ``admit()`` as closed.
    func release() {
        open.wrappingSubtract(1, ordering: .relaxed)
    }
}
