import Foundation

/// One key's budget as one replica holds it: a slice of USD leased from the shared row (see
/// ``BudgetLeaseRule``), from which requests are admitted without asking the store.
///
/// A request is admitted from the slice when the slice covers its reservation and holds anything
/// at all (so a request reserving $0 is not admitted from an empty slice: a spent budget refuses
/// every request, as one process does). Otherwise the replica asks the store for ``needUSD(for:)``.
/// Settling gives back the reservation and takes the real cost, so the slice may go below zero
/// (a request that cost more than it reserved, or the window's overdraft): that debt is paid by
/// the next lease, whose need grows by it, or charged to the row when the key is idle.
///
/// Time is passed in: `now` is the replica's monotonic clock, used only for idleness and for how
/// long a refusal is remembered.
struct LeasedBudget: Sendable, Equatable {
    /// A refusal from the store, remembered for a while so a key whose budget is spent does not
    /// cost a store call per request.
    struct Refusal: Sendable, Equatable {
        /// The row's committed USD when it refused: reported as spent.
        var committedUSD: Double
        /// Until when requests the slice cannot cover are refused without asking.
        var until: ContinuousClock.Instant
    }

    /// The start of the budget window the slice belongs to: the shared row's key with the key id.
    private(set) var windowStart: Date
    /// USD leased and not yet reserved; negative when requests cost more than they reserved.
    private(set) var balanceUSD: Double = 0
    /// USD reserved by requests admitted here and not yet settled (reported, not enforced: the
    /// slice already excludes them).
    private(set) var reservedUSD: Double = 0
    /// USD settled here in this window (reported).
    private(set) var spentUSD: Double = 0
    /// When the slice was last used: admitted from, settled or leased into.
    private(set) var lastUsed: ContinuousClock.Instant
    /// The store's last refusal, while it holds.
    private(set) var refusal: Refusal?

    /// An empty slice of the window starting at `windowStart`.
    init(windowStart: Date, now: ContinuousClock.Instant) {
        self.windowStart = windowStart
        self.lastUsed = now
    }

    /// Moves to the window starting at `start` if it is newer: what is left of the old window's
    /// slice is dropped (the old row is history), and so are its reservations and refusal. An older
    /// window (a request that read the clock just before another crossed into the next) is ignored.
    mutating func enter(window start: Date, now: ContinuousClock.Instant) {
        guard start > windowStart else { return }
        self = LeasedBudget(windowStart: start, now: now)
    }

    /// Whether the slice admits a request reserving `reservationUSD` without asking the store.
    func covers(_ reservationUSD: Double) -> Bool {
        balanceUSD >= reservationUSD && balanceUSD > 0
    }

    /// What to ask the store for to admit a request reserving `reservationUSD`: the reservation
    /// minus the slice, so a debt is paid with it.
    func needUSD(for reservationUSD: Double) -> Double {
        reservationUSD - balanceUSD
    }

    /// The remembered refusal, if it still holds at `now`.
    func cachedRefusal(now: ContinuousClock.Instant) -> Refusal? {
        guard let refusal, now < refusal.until else { return nil }
        return refusal
    }

    /// Admits a request reserving `reservationUSD`: covered by the slice, or not (the overdraft, or
    /// a request admitted while the store is unreachable), in which case the slice goes into debt.
    mutating func admit(_ reservationUSD: Double, now: ContinuousClock.Instant) {
        balanceUSD -= reservationUSD
        reservedUSD += reservationUSD
        lastUsed = now
    }

    /// Adds the store's answer: a grant to the slice, or a refusal remembered for `refusalHold`.
    mutating func receive(_ grant: BudgetLeaseRule.Grant, now: ContinuousClock.Instant, refusalHold: Duration) {
        lastUsed = now
        if grant.refused {
            refusal = Refusal(committedUSD: grant.committedUSD, until: now + refusalHold)
        } else {
            balanceUSD += grant.grantedUSD
            refusal = nil
        }
    }

    /// Ends a request of window `window` that reserved `reservationUSD` and cost `costUSD`. A
    /// request of an older window changes nothing: its slice was dropped with the window.
    mutating func settle(reservationUSD: Double, costUSD: Double, window: Date?, now: ContinuousClock.Instant) {
        guard window == windowStart else { return }
        balanceUSD += reservationUSD - costUSD
        reservedUSD = max(0, reservedUSD - reservationUSD)
        spentUSD += costUSD
        lastUsed = now
    }

    /// Takes the whole slice (or debt) to give back to the store, if it is not empty and the key
    /// has been idle for `idleAfter` at `now` (always, when `idleAfter` is nil: shutting down).
    mutating func takeIdle(now: ContinuousClock.Instant, idleAfter: Duration?) -> Double? {
        guard balanceUSD != 0 else { return nil }
        if let idleAfter, now - lastUsed < idleAfter { return nil }
        defer { balanceUSD = 0 }
        return balanceUSD
    }

    /// Puts back a give-back the store did not take, so it is tried again later (or used here).
    mutating func restore(_ amountUSD: Double) {
        balanceUSD += amountUSD
    }
}
