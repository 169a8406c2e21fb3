import Foundation

/// Where replicas of one gateway share their keys' budgets and rate limits: the one truth that
/// ``SharedKeyLimiter``s lease slices from.
///
/// Every method is one atomic step on one row, which an implementation must apply as a unit
/// against concurrent calls from every replica: read the row, locking it (creating it when
/// missing), apply the rule, write it back, in one transaction. On PostgreSQL:
///
/// ```sql
/// BEGIN;
/// INSERT INTO … ON CONFLICT DO NOTHING;        -- the row, when missing
/// SELECT … FOR UPDATE;                          -- the row, locked
/// -- BudgetLeaseRule.grant / TokenLeaseRule.take / giveBack, in Swift
/// UPDATE … ;
/// COMMIT;
/// ```
///
/// The rules (``BudgetLeaseRule``, ``TokenLeaseRule``) are pure and take plain values, so a row
/// maps onto them field for field. Token rows refill by the store's clock (`now()` of the database,
/// in seconds since 1970), never a replica's, so replicas' clocks do not matter.
///
/// A call that throws, or takes longer than the limiter's timeout, counts as the store being
/// unavailable (see ``SharedKeyLimiter/OnUnavailable``). A call that timed out may still have been
/// applied: a grant lost that way is budget or rate no replica uses until the window or bucket
/// moves on, which errs towards refusing, never towards admitting beyond the limit.
public protocol SharedLimitStore: Sendable {
    /// Applies ``BudgetLeaseRule/grant(_:from:)`` to the row of (`keyID`, `windowStart`).
    ///
    /// A missing row is created first with ``BudgetLeaseRule/Row/committedUSD`` set to what the
    /// usage ledger says the key `keyName` spent since `windowStart`, and `overdrawn` false.
    ///
    /// - Parameters:
    ///   - keyID: The virtual key's id.
    ///   - keyName: Its name, as the usage ledger records it.
    ///   - windowStart: The start of the budget window: the period's start, or the key's creation
    ///     if later (``KeyLimiter/Budget/notBefore``), so a key made again does not inherit spend.
    ///   - amountUSD: The budget's amount per window.
    ///   - needUSD: What the replica lacks to admit its request.
    func grantBudget(
        keyID: String,
        keyName: String,
        windowStart: Date,
        amountUSD: Double,
        needUSD: Double
    ) async throws
        -> BudgetLeaseRule.Grant

    /// Applies ``BudgetLeaseRule/giveBack(_:to:)`` to the row of (`keyID`, `windowStart`): a replica
    /// gives back `amountUSD` it leased and did not use, or, negative, charges a debt. A missing
    /// row is left missing.
    func returnBudget(keyID: String, windowStart: Date, amountUSD: Double) async throws

    /// Applies ``TokenLeaseRule/take(_:from:now:)`` to the bucket of (`keyID`, `kind`) at the
    /// store's current time; a missing row is created full (``TokenLeaseRule/fullRow(perMinute:now:)``).
    ///
    /// - Parameters:
    ///   - keyID: The virtual key's id.
    ///   - kind: Which limit.
    ///   - perMinute: The limit: the bucket's capacity and refill per minute.
    ///   - needed: What the replica lacks to admit its request.
    ///   - extra: How much more to grant if the bucket holds it.
    ///   - whole: Whether the take needs the whole of `needed` in the bucket.
    func takeTokens(
        keyID: String,
        kind: RateLimitKind,
        perMinute: Int,
        needed: Double,
        extra: Double,
        whole: Bool
    ) async throws
        -> TokenLeaseRule.Grant

    /// Applies ``TokenLeaseRule/giveBack(_:perMinute:to:now:)`` to the bucket of (`keyID`, `kind`)
    /// at the store's current time: a replica gives back `amount` units it leased and did not use,
    /// or, negative, charges a debt. A missing row is created full first.
    func returnTokens(keyID: String, kind: RateLimitKind, perMinute: Int, amount: Double) async throws
}

/// A store call failed before anything reached the store (no connection could be had), so it
/// certainly had no effect: what it gave back may be given back again.
///
/// Any other failure, a timeout above all, leaves the call's effect unknown: it may have been
/// applied after the caller stopped waiting. ``SharedKeyLimiter`` then errs towards refusing: a
/// give-back that may have been applied is not given again, a debt that may not have been charged
/// is charged again.
public struct StorageNotReached: Error, CustomStringConvertible {
    /// Why the store could not be reached.
    public var underlying: any Error

    /// Wraps the error that kept the call from the store.
    public init(underlying: any Error) {
        self.underlying = underlying
    }

    /// The underlying error's text.
    public var description: String { "\(underlying)" }
}
