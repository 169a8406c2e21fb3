import Foundation

/// Admits requests against virtual keys' budgets and rate limits, and settles them when they end.
///
/// ``KeyLimiter`` does it in one process's memory; ``SharedKeyLimiter`` does it across replicas
/// sharing a ``SharedLimitStore``. Request accounting holds either behind this protocol.
public protocol KeyLimiting: Sendable {
    /// Admits a request of the key with `limits`, reserving `estimatedTokens` against its tokens
    /// per minute and `estimatedCostUSD` (the most it may cost) against its budget, or says why
    /// not.
    ///
    /// - Parameters:
    ///   - now: The monotonic clock, for rate limits.
    ///   - date: The wall clock, for the budget's period.
    func admit(
        _ limits: KeyLimiter.Limits,
        estimatedTokens: Int,
        estimatedCostUSD: Double,
        now: ContinuousClock.Instant,
        date: Date
    ) async -> Result<KeyLimiter.Reservation, KeyLimiter.Rejection>

    /// Ends `reservation` with what the request really used; never waits.
    func settle(_ reservation: KeyLimiter.Reservation, tokens: Int, costUSD: Double, now: ContinuousClock.Instant)

    /// Forgets a key (revoked).
    func forget(key id: String)

    /// Forgets every key but those in `active` (the keys not revoked), whoever revoked them:
    /// counts a request re-created after a `forget` go too.
    func forget(keysOtherThan active: Set<String>)

    /// What the key spent in the budget period starting at `periodStart`, when this limiter knows
    /// it exactly (one process's running count); nil when the usage ledger must be asked.
    func spentUSD(ofKey id: String, inPeriodStarting periodStart: Date) -> Double?
}
