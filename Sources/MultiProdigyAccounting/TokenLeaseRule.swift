/// The arithmetic of a rate limit shared by every replica: one ``TokenBucket`` kept in a shared row,
/// from which replicas lease slices.
///
/// A replica admits requests from a slice it holds (see ``LeasedTokens``) and asks the shared
/// bucket for more only when its slice cannot cover a request, so most requests touch no database.
/// This rule is what the shared store applies to the row, atomically, on each such ask: the bucket
/// refills continuously exactly as ``TokenBucket`` does, and lets a take in by the same test (a
/// whole take needs the whole amount, a partial one only a positive balance), so across replicas a
/// limit holds as it would in one process, and a refusal carries the same `Retry-After`. The
/// store's clock is the only clock: `now` is passed in, as seconds since 1970, so replicas' clocks
/// do not matter.
///
/// A granted take may carry a little more than was needed (``Request/extra``, at most what the
/// bucket holds beyond the need), so the next requests on that replica are admitted locally. The
/// extra never pushes the bucket below zero, and a replica gives back what it did not use after a
/// second of idleness: leasing may delay admissions a little, never add any beyond the limit.
///
/// ```swift
/// let row = TokenLeaseRule.fullRow(perMinute: 60, now: now)
/// let (next, grant) = TokenLeaseRule.take(.init(perMinute: 60, needed: 1, extra: 1, whole: true), from: row, now: now)
/// // grant.granted == 2, next.balance == 58
/// ```
public enum TokenLeaseRule {
    /// The share of a limit a replica leases beyond its need: 2 %, so a replica asks the store
    /// about once every fiftieth of the limit, and the slices held by idle replicas (given back
    /// within about a second) stay small beside the limit.
    public static let chunkFraction = 0.02

    /// The shared bucket of one key and one kind of limit, as the store keeps it.
    public struct Row: Sendable, Equatable {
        /// What the bucket holds at ``refilledAt``; negative after a partial take larger than
        /// what was left (the next take waits until it is above zero again).
        public var balance: Double
        /// When ``balance`` was last refilled: seconds since 1970 on the store's clock.
        public var refilledAt: Double

        /// Creates a row.
        public init(balance: Double, refilledAt: Double) {
            self.balance = balance
            self.refilledAt = refilledAt
        }
    }

    /// One replica's ask.
    public struct Request: Sendable, Equatable {
        /// The limit per minute: the bucket's capacity and its refill per minute.
        public var perMinute: Int
        /// What the replica lacks to admit its request: the request's units minus the slice it
        /// holds (more than the request when the slice is in debt).
        public var needed: Double
        /// How much more to grant, if the bucket holds it beyond ``needed``: see ``chunk(perMinute:)``.
        public var extra: Double
        /// True for requests per minute, whose take needs the whole unit in the bucket; false for
        /// tokens per minute, let in while the bucket holds anything.
        public var whole: Bool

        /// Creates an ask.
        public init(perMinute: Int, needed: Double, extra: Double, whole: Bool) {
            self.perMinute = perMinute
            self.needed = needed
            self.extra = extra
            self.whole = whole
        }
    }

    /// The answer to an ask.
    public struct Grant: Sendable, Equatable {
        /// What the replica may add to its slice; 0 when refused.
        public var granted: Double
        /// Nil when granted; when refused, how long until the take would be let in: what a single
        /// ``TokenBucket`` in the same state would answer.
        public var retryAfter: Duration?

        /// Creates an answer.
        public init(granted: Double, retryAfter: Duration?) {
            self.granted = granted
            self.retryAfter = retryAfter
        }

        /// Whether the take was refused.
        public var isRefused: Bool { retryAfter != nil }
    }

    /// The bucket's capacity for a limit: at least 1, as ``TokenBucket`` has it.
    public static func capacity(perMinute: Int) -> Double {
        Double(max(1, perMinute))
    }

    /// The extra a replica asks for beyond its need: 2 % of the limit, in whole units.
    public static func chunk(perMinute: Int) -> Double {
        max(0, (Double(perMinute) * chunkFraction).rounded(.down))
    }

    /// A full bucket: what the store inserts for a key and kind it has no row for yet.
    public static func fullRow(perMinute: Int, now: Double) -> Row {
        Row(balance: capacity(perMinute: perMinute), refilledAt: now)
    }

    /// Applies `request` to `row` at `now`: the row to store, and the answer.
    ///
    /// Refills to `now`; if the bucket lets ``Request/needed`` in by ``TokenBucket``'s test, grants
    /// it plus the smaller of ``Request/extra`` and what the bucket holds beyond it (whole units for
    /// a whole take, so a replica never keeps a useless fraction of a request); otherwise refuses
    /// with ``TokenBucket``'s wait and leaves the balance as refilled.
    public static func take(_ request: Request, from row: Row, now: Double) -> (row: Row, grant: Grant) {
        let capacity = capacity(perMinute: request.perMinute)
        var row = refilled(row, capacity: capacity, now: now)
        let needed = max(0, request.needed)
        let threshold = request.whole ? min(needed, capacity) : Double.leastNonzeroMagnitude
        guard row.balance >= threshold else {
            let retryAfter = wait(from: row.balance, until: max(threshold, min(1, capacity)), capacity: capacity)
            return (row, Grant(granted: 0, retryAfter: retryAfter))
        }
        var spare = max(0, row.balance - needed)
        if request.whole { spare.round(.down) }
        let granted = needed + min(max(0, request.extra), spare)
        row.balance -= granted
        return (row, Grant(granted: granted, retryAfter: nil))
    }

    /// Gives `amount` back to the bucket at `now` (a negative amount charges it: a replica's debt):
    /// refilled first, and never above capacity, as ``TokenBucket/adjust(by:now:)`` does.
    public static func giveBack(_ amount: Double, perMinute: Int, to row: Row, now: Double) -> Row {
        let capacity = capacity(perMinute: perMinute)
        var row = refilled(row, capacity: capacity, now: now)
        row.balance = min(capacity, row.balance + amount)
        return row
    }

    /// `row` refilled to `now`; unchanged when `now` is not after its last refill (a clock that
    /// stepped back refills nothing rather than draining the bucket).
    private static func refilled(_ row: Row, capacity: Double, now: Double) -> Row {
        guard now > row.refilledAt else { return row }
        return Row(balance: min(capacity, row.balance + (now - row.refilledAt) * capacity / 60), refilledAt: now)
    }

    /// Time until `balance` refills to `level`, in whole milliseconds rounded up, as ``TokenBucket`` says it.
    private static func wait(from balance: Double, until level: Double, capacity: Double) -> Duration {
        let seconds = (level - balance) / (capacity / 60)
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }
}
