/// The arithmetic of a budget shared by every replica: one row per key and budget window, from
/// which replicas lease slices of USD.
///
/// A replica admits requests from a slice it holds (see ``LeasedBudget``) and asks the shared row
/// for more only when its slice cannot cover a request's reservation, so most requests touch no
/// database. This rule is what the shared store applies to the row, atomically, on each such ask.
///
/// ``Row/committedUSD`` is everything granted to replicas minus what they gave back: settled
/// spend, reservations in flight and slices not yet used. A grant never takes it past the amount,
/// with one exception per window: when what is left is more than nothing but less than the
/// request needs, it is granted as an *overdraft*, and the replica admits that one request though
/// its slice then goes below zero. That reproduces the single-process rule (a request is admitted
/// while spend plus reservations is below the amount, so the last one admitted may overshoot by
/// its reservation), once per window whatever the number of replicas: **requests in flight and
/// settled together exceed the budget by at most one reservation**, plus whatever requests cost
/// beyond their reservations.
///
/// Slices held by replicas that do not use them are not available to the others until given back
/// (after a second of idleness): leasing may refuse a little early, never admit beyond the bound.
/// Slices shrink as the budget runs out (``chunkFraction`` of what is left), so a large budget is
/// leased in large slices and a nearly spent one almost request by request.
///
/// ```swift
/// let (row, grant) = BudgetLeaseRule.grant(.init(amountUSD: 10, needUSD: 1), from: .init(committedUSD: 0, overdrawn: false))
/// // grant.grantedUSD == 1.45 (1 needed + 5 % of the 9 left beyond it), row.committedUSD == 1.45
/// ```
public enum BudgetLeaseRule {
    /// The share of what is left beyond a need that is granted with it.
    public static let chunkFraction = 0.05

    /// The shared state of one key's budget in one window, as the store keeps it.
    public struct Row: Sendable, Equatable {
        /// USD granted to replicas minus USD given back. The store creates a missing row with what
        /// the usage ledger says the key spent since the window's start.
        public var committedUSD: Double
        /// Whether this window's one overdraft has been granted.
        public var overdrawn: Bool

        /// Creates a row.
        public init(committedUSD: Double, overdrawn: Bool) {
            self.committedUSD = committedUSD
            self.overdrawn = overdrawn
        }
    }

    /// One replica's ask.
    public struct Request: Sendable, Equatable {
        /// The budget's amount in USD per window.
        public var amountUSD: Double
        /// What the replica lacks to admit its request: the request's reservation minus the slice
        /// it holds (more than the reservation when the slice is in debt).
        public var needUSD: Double

        /// Creates an ask.
        public init(amountUSD: Double, needUSD: Double) {
            self.amountUSD = amountUSD
            self.needUSD = needUSD
        }
    }

    /// The answer to an ask.
    public struct Grant: Sendable, Equatable {
        /// What the replica may add to its slice; 0 when refused.
        public var grantedUSD: Double
        /// True when the grant is the window's overdraft: less than was needed, and the replica
        /// admits its request anyway.
        public var overdraft: Bool
        /// True when nothing was granted: the replica refuses its request (`budget_exceeded`).
        public var refused: Bool
        /// The row's committed USD after the grant: what the key's refusal reports as spent
        /// (settled, in flight, or held by replicas).
        public var committedUSD: Double

        /// Creates an answer.
        public init(grantedUSD: Double, overdraft: Bool, refused: Bool, committedUSD: Double) {
            self.grantedUSD = grantedUSD
            self.overdraft = overdraft
            self.refused = refused
            self.committedUSD = committedUSD
        }
    }

    /// Applies `request` to `row`: the row to store, and the answer.
    ///
    /// With `remaining = max(0, amount − committed)`: when something remains and it covers the
    /// need, grants the need plus ``chunkFraction`` of what remains beyond it; when something
    /// remains but not enough, grants it all as the window's overdraft unless that was taken;
    /// otherwise refuses. An exhausted budget grants nothing, even to a request that needs nothing
    /// (one reserving $0), as a single process refuses every request once spend and reservations
    /// reach the amount.
    public static func grant(_ request: Request, from row: Row) -> (row: Row, grant: Grant) {
        var row = row
        let remaining = max(0, request.amountUSD - row.committedUSD)
        let need = max(0, request.needUSD)
        let granted: Double
        var overdraft = false
        if remaining > 0, remaining >= need {
            granted = need + min(remaining - need, chunkFraction * (remaining - need))
        } else if remaining > 0, !row.overdrawn {
            granted = remaining
            overdraft = true
            row.overdrawn = true
        } else {
            return (row, Grant(grantedUSD: 0, overdraft: false, refused: true, committedUSD: row.committedUSD))
        }
        row.committedUSD += granted
        return (row, Grant(grantedUSD: granted, overdraft: overdraft, refused: false, committedUSD: row.committedUSD))
    }

    /// Takes back `amountUSD` a replica did not use (a negative amount charges its debt: requests
    /// that cost more than they reserved). The overdraft stays taken: it is once per window.
    public static func giveBack(_ amountUSD: Double, to row: Row) -> Row {
        Row(committedUSD: row.committedUSD - amountUSD, overdrawn: row.overdrawn)
    }
}
