/// One key's rate limit of one kind as one replica holds it: a slice of units leased from the shared
/// bucket (see ``TokenLeaseRule``), from which requests are admitted without asking the store.
///
/// A request is admitted from the slice when the slice covers its units (1 for requests per
/// minute, its estimated tokens for tokens per minute) and holds anything at all; otherwise the
/// replica asks the store for ``needed(for:)``, and the shared bucket applies ``TokenBucket``'s
/// test. The slice never lets a partial take in on a positive balance the way a bucket does: with
/// many replicas that would let one oversized request in per replica, so that test is left to the
/// one shared bucket.
///
/// Tokens are settled here with what the request really used: the slice may go below zero, and the
/// debt is paid with the next lease (whose need grows by it) or charged to the bucket when the key
/// is idle. The store is never asked later than the next admission that the slice cannot cover.
struct LeasedTokens: Sendable, Equatable {
    /// The limit per minute the slice was last used with, for giving it back.
    private(set) var perMinute: Int
    /// Units leased and not yet taken; negative when requests used more tokens than estimated.
    private(set) var balance: Double = 0
    /// When the slice was last used: admitted from, settled or leased into.
    private(set) var lastUsed: ContinuousClock.Instant
    /// Until when the store's last refusal holds: requests the slice cannot cover are refused
    /// without asking, with the rest of the wait the store gave.
    private(set) var refusedUntil: ContinuousClock.Instant?

    /// An empty slice of a limit of `perMinute`.
    init(perMinute: Int, now: ContinuousClock.Instant) {
        self.perMinute = perMinute
        self.lastUsed = now
    }

    /// Follows a changed limit: the slice keeps what it holds, given back under the new limit.
    mutating func use(perMinute: Int) {
        self.perMinute = perMinute
    }

    /// Whether the slice admits a request of `units` without asking the store.
    func covers(_ units: Double) -> Bool {
        balance >= units && balance > 0
    }

    /// What to ask the store for to admit a request of `units`: the units minus the slice, so a
    /// debt is paid with it.
    func needed(for units: Double) -> Double {
        units - balance
    }

    /// The rest of the store's last refusal at `now`, if it still holds.
    func cachedRefusal(now: ContinuousClock.Instant) -> Duration? {
        guard let refusedUntil, now < refusedUntil else { return nil }
        return refusedUntil - now
    }

    /// Admits a request of `units`: covered by the slice, or not (admitted while the store is
    /// unreachable), in which case the slice goes into debt.
    mutating func admit(_ units: Double, now: ContinuousClock.Instant) {
        balance -= units
        lastUsed = now
    }

    /// Adds the store's answer: a grant to the slice, or a refusal remembered for its wait.
    mutating func receive(_ grant: TokenLeaseRule.Grant, now: ContinuousClock.Instant) {
        lastUsed = now
        if let wait = grant.retryAfter {
            refusedUntil = now + wait
        } else {
            balance += grant.granted
            refusedUntil = nil
        }
    }

    /// Settles a request that used `delta` units more (or, negative, fewer) than it took.
    mutating func settle(by delta: Double, now: ContinuousClock.Instant) {
        balance -= delta
        lastUsed = now
    }

    /// Takes the whole slice (or debt) to give back to the store, if it is not empty and the key
    /// has been idle for `idleAfter` at `now` (always, when `idleAfter` is nil: shutting down).
    mutating func takeIdle(now: ContinuousClock.Instant, idleAfter: Duration?) -> Double? {
        guard balance != 0 else { return nil }
        if let idleAfter, now - lastUsed < idleAfter { return nil }
        defer { balance = 0 }
        return balance
    }

    /// Puts back a give-back the store did not take, so it is tried again later (or used here).
    mutating func restore(_ amount: Double) {
        balance += amount
    }
}
