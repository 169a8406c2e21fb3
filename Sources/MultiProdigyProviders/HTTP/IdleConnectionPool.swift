import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore

/// The idle connections of a client, per upstream: which one a call reuses, which are kept, and
/// which have waited longer than the idle timeout and must be closed.
///
/// A value type with the time passed in; ``UpstreamTransport`` holds it under a lock and acts on what
/// it returns (closing connections, scheduling the next sweep). Expiry is checked by a sweep rather
/// than a timer per connection, so a call costs no timer: the sweep is scheduled when the first
/// connection goes idle, runs when the oldest one expires (at most every quarter of the idle
/// timeout, so a connection is closed between one and 1.25 idle timeouts after it went idle), and
/// stops when the pool is empty.
///
/// ```swift
/// var pool = IdleConnectionPool<String, Int>(idleTimeout: .seconds(60), maximumPerKey: 256)
/// if case .keep(let sweepAt?) = pool.checkin(7, key: "host:80", at: .now()) { /* schedule the sweep */ }
/// let reused = pool.checkout(key: "host:80") { _ in true }  // 7
/// ```
struct IdleConnectionPool<Key: Hashable & Sendable, Connection: Sendable>: Sendable {
    /// A connection waiting for its next call.
    struct Entry: Sendable {
        let connection: Connection
        /// When it was checked in.
        let idleSince: NIODeadline
    }

    /// What to do with a connection a call has finished with.
    enum CheckinAction: Equatable {
        /// It was kept; when `sweepAt` is set, no sweep was pending and one must be scheduled then.
        case keep(sweepAt: NIODeadline?)
        /// The pool is full or shut down: close it.
        case close
    }

    /// How long a connection may stay idle.
    let idleTimeout: TimeAmount
    /// Idle connections kept per key at most.
    let maximumPerKey: Int
    /// The idle connections of each key, oldest first.
    private(set) var entries: [Key: [Entry]] = [:]
    /// Whether a sweep is scheduled.
    private(set) var isSweepScheduled = false
    private var isShutDown = false

    /// The shortest time between two sweeps: a quarter of the idle timeout.
    var minimumSweepInterval: TimeAmount { .nanoseconds(max(idleTimeout.nanoseconds / 4, 1)) }

    /// An empty pool.
    init(idleTimeout: TimeAmount, maximumPerKey: Int) {
        self.idleTimeout = idleTimeout
        self.maximumPerKey = maximumPerKey
    }

    /// Takes the newest idle connection of `key` for which `isPreferred` holds; nil when none does.
    mutating func checkout(key: Key, where isPreferred: (Connection) -> Bool) -> Connection? {
        guard let index = entries[key]?.lastIndex(where: { isPreferred($0.connection) }) else { return nil }
        // Removed in place: a copy of the list held across the removal would copy it.
        return entries[key]?.remove(at: index).connection
    }

    /// Keeps `connection` for reuse from `now` on, unless the pool of `key` is full or shut down.
    mutating func checkin(_ connection: Connection, key: Key, at now: NIODeadline) -> CheckinAction {
        guard !isShutDown, entries[key, default: []].count < maximumPerKey else { return .close }
        entries[key, default: []].append(Entry(connection: connection, idleSince: now))
        guard !isSweepScheduled else { return .keep(sweepAt: nil) }
        isSweepScheduled = true
        return .keep(sweepAt: now + idleTimeout)
    }

    /// Removes the connections idle for `idleTimeout` or longer at `now`, which the caller closes,
    /// and says when the next sweep is due: nil when no connection is left, and so no sweep is
    /// scheduled until the next checkin.
    mutating func sweep(at now: NIODeadline) -> (expired: [Connection], nextSweep: NIODeadline?) {
        var expired: [Connection] = []
        var oldestRemaining: NIODeadline?
        for key in Array(entries.keys) {
            var kept: [Entry] = []
            for entry in entries[key] ?? [] {
                if entry.idleSince + idleTimeout <= now {
                    expired.append(entry.connection)
                } else {
                    kept.append(entry)
                    oldestRemaining = min(oldestRemaining ?? entry.idleSince, entry.idleSince)
                }
            }
            entries[key] = kept.isEmpty ? nil : kept
        }
        guard let oldestRemaining, !isShutDown else {
            isSweepScheduled = false
            return (expired, nil)
        }
        return (expired, max(oldestRemaining + idleTimeout, now + minimumSweepInterval))
    }

    /// Empties the pool for good, returning every idle connection for the caller to close; later
    /// checkins are refused.
    mutating func shutdown() -> [Connection] {
        isShutDown = true
        defer { entries.removeAll() }
        return entries.values.flatMap { $0.map(\.connection) }
    }
}
