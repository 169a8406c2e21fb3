import Foundation

/// One key's slices on one replica (budget, requests per minute, tokens per minute), and, for each
/// request, what to do next: admit it from the slices, refuse it, ask the store for a lease, or
/// wait for the lease another request of the key is already asking for.
///
/// It is the value-type state machine inside ``SharedKeyLimiter``: no I/O, time passed in, one
/// call per decision, so the decision is one short critical section and is tested with literal
/// states. A request is admitted only when every limit it is subject to covers it, and only then
/// is anything taken from any slice: a request refused by one limit leaves the others untouched
/// (what ``KeyLimiter`` does by giving its request-rate unit back).
///
/// Limits are examined in ``KeyLimiter``'s order (budget, requests, tokens), so a key both out of
/// budget and rate-limited is told about its budget. At most one lease per limit is in flight:
/// ``isLeasing(_:)`` is set when a ``Step/lease(_:)`` is handed out and cleared when its answer
/// (or failure) is received.
struct LeasedKey: Sendable {
    /// A limit a slice is leased for.
    enum Limit: Sendable, Hashable {
        /// The budget.
        case budget
        /// Requests per minute.
        case requests
        /// Tokens per minute.
        case tokens
    }

    /// What one request asks of its key.
    struct Ask: Sendable {
        /// The key's id.
        var keyID: String
        /// The key's budget, if it has one.
        var budget: KeyLimiter.Budget?
        /// The start of the budget window the request falls in (nil without a budget).
        var windowStart: Date?
        /// The USD the request reserves against the budget (0 without one).
        var reservationUSD: Double
        /// The key's requests per minute, if limited.
        var requestsPerMinute: Int?
        /// The key's tokens per minute, if limited.
        var tokensPerMinute: Int?
        /// The tokens the request is expected to use.
        var tokens: Double
        /// Set once the store granted this request the window's overdraft: the budget admits it
        /// though its slice does not cover it.
        var overdraftGranted = false
    }

    /// What the store is to be asked; the key is marked as leasing ``limit`` until the answer is received.
    enum Order: Sendable, Equatable {
        /// ``SharedLimitStore/grantBudget(keyID:keyName:windowStart:amountUSD:needUSD:)``.
        case budget(windowStart: Date, amountUSD: Double, needUSD: Double)
        /// ``SharedLimitStore/takeTokens(keyID:kind:perMinute:needed:extra:whole:)``.
        case tokens(RateLimitKind, perMinute: Int, needed: Double, extra: Double)

        /// The limit the lease is for.
        var limit: Limit {
            switch self {
            case .budget: .budget
            case .tokens(.requests, _, _, _): .requests
            case .tokens(.tokens, _, _, _): .tokens
            }
        }
    }

    /// What the shell does next with a request.
    enum Step: Sendable {
        /// Admitted; `verified` is false when a limit's slice did not cover it and the store could
        /// not be asked (admitted anyway: ``SharedKeyLimiter/OnUnavailable/open``).
        case admitted(KeyLimiter.Reservation, verified: Bool)
        /// Refused.
        case refused(KeyLimiter.Rejection)
        /// Ask the store, then decide again with its answer received.
        case lease(Order)
        /// Wait until the lease in flight for this limit is answered, then decide again.
        case wait(Limit)
    }

    /// Whether the store can be asked now, and what to do if not.
    enum Outage: Sendable, Equatable {
        /// The store is available.
        case none
        /// It is not: admit what the slices do not cover, into debt.
        case admit
        /// It is not: refuse what the slices do not cover.
        case refuse(retryAfter: Duration)
    }

    /// Something to give back to the store (a negative amount charges a debt).
    enum GiveBack: Sendable, Equatable {
        /// ``SharedLimitStore/returnBudget(keyID:windowStart:amountUSD:)``.
        case budget(keyID: String, windowStart: Date, amountUSD: Double)
        /// ``SharedLimitStore/returnTokens(keyID:kind:perMinute:amount:)``.
        case tokens(keyID: String, kind: RateLimitKind, perMinute: Int, amount: Double)

        /// The key it belongs to.
        var keyID: String {
            switch self {
            case .budget(let keyID, _, _), .tokens(let keyID, _, _, _): keyID
            }
        }

        /// What it gives back: positive for an unused slice, negative for a debt it charges.
        var amount: Double {
            switch self {
            case .budget(_, _, let amount), .tokens(_, _, _, let amount): amount
            }
        }
    }

    /// The budget slice, once the key was used with a budget.
    private(set) var budget: LeasedBudget?
    /// The requests-per-minute slice, once the key was used with that limit.
    private(set) var requests: LeasedTokens?
    /// The tokens-per-minute slice, once the key was used with that limit.
    private(set) var tokens: LeasedTokens?
    private var leasingBudget = false
    private var leasingRequests = false
    private var leasingTokens = false

    /// A key with no slices yet.
    init() {}

    /// Whether a lease for `limit` is in flight.
    func isLeasing(_ limit: Limit) -> Bool {
        switch limit {
        case .budget: leasingBudget
        case .requests: leasingRequests
        case .tokens: leasingTokens
        }
    }

    private mutating func setLeasing(_ limit: Limit, _ value: Bool) {
        switch limit {
        case .budget: leasingBudget = value
        case .requests: leasingRequests = value
        case .tokens: leasingTokens = value
        }
    }

    /// Decides what to do with `ask` at `now`, admitting it (taking from every slice) when every
    /// limit covers it.
    mutating func admit(_ ask: Ask, now: ContinuousClock.Instant, outage: Outage) -> Step {
        if let windowStart = ask.windowStart {
            if budget == nil { budget = LeasedBudget(windowStart: windowStart, now: now) }
            budget?.enter(window: windowStart, now: now)
        }
        if let perMinute = ask.requestsPerMinute {
            if requests == nil { requests = LeasedTokens(perMinute: perMinute, now: now) }
            requests?.use(perMinute: perMinute)
        }
        if let perMinute = ask.tokensPerMinute {
            if tokens == nil { tokens = LeasedTokens(perMinute: perMinute, now: now) }
            tokens?.use(perMinute: perMinute)
        }
        var verified = true
        if let limit = ask.budget, let slice = budget, !ask.overdraftGranted, !slice.covers(ask.reservationUSD) {
            if let refusal = slice.cachedRefusal(now: now) {
                let renewsAt = limit.period.end(containing: slice.windowStart)
                return .refused(.budget(spentUSD: refusal.committedUSD, amountUSD: limit.amountUSD, renewsAt: renewsAt))
            }
            let order = Order.budget(
                windowStart: slice.windowStart,
                amountUSD: limit.amountUSD,
                needUSD: slice.needUSD(for: ask.reservationUSD)
            )
            if let step = outOfSlice(order, outage: outage) { return step }
            verified = false
        }
        if let perMinute = ask.requestsPerMinute, let slice = requests, !slice.covers(1) {
            if let wait = slice.cachedRefusal(now: now) { return .refused(.requests(limit: perMinute, retryAfter: wait)) }
            let order = Order.tokens(
                .requests,
                perMinute: perMinute,
                needed: slice.needed(for: 1),
                extra: TokenLeaseRule.chunk(perMinute: perMinute)
            )
            if let step = outOfSlice(order, outage: outage) { return step }
            verified = false
        }
        if let perMinute = ask.tokensPerMinute, let slice = tokens, !slice.covers(ask.tokens) {
            if let wait = slice.cachedRefusal(now: now) { return .refused(.tokens(limit: perMinute, retryAfter: wait)) }
            let order = Order.tokens(
                .tokens,
                perMinute: perMinute,
                needed: slice.needed(for: ask.tokens),
                extra: TokenLeaseRule.chunk(perMinute: perMinute)
            )
            if let step = outOfSlice(order, outage: outage) { return step }
            verified = false
        }
        if ask.budget != nil { budget?.admit(ask.reservationUSD, now: now) }
        if ask.requestsPerMinute != nil { requests?.admit(1, now: now) }
        if ask.tokensPerMinute != nil { tokens?.admit(ask.tokens, now: now) }
        let reservation = KeyLimiter.Reservation(
            keyID: ask.keyID,
            tokens: ask.tokens,
            costUSD: ask.budget == nil ? 0 : ask.reservationUSD,
            periodStart: ask.budget == nil ? nil : budget?.windowStart
        )
        return .admitted(reservation, verified: verified)
    }

    /// A slice does not cover the request: lease, wait for the lease in flight, or, with the store
    /// unavailable, refuse (nil: admit anyway).
    private mutating func outOfSlice(_ order: Order, outage: Outage) -> Step? {
        switch outage {
        case .admit:
            return nil
        case .refuse(let wait):
            return .refused(.storageUnavailable(retryAfter: wait))
        case .none:
            if isLeasing(order.limit) { return .wait(order.limit) }
            setLeasing(order.limit, true)
            return .lease(order)
        }
    }

    /// Receives the store's answer to a budget lease for the window starting at `windowStart`.
    ///
    /// - Returns: The grant to give back when it no longer belongs here (the key moved to a newer
    ///   window while it was asked for), nil when it was added to the slice (or was a refusal).
    mutating func receive(
        _ grant: BudgetLeaseRule.Grant,
        windowStart: Date,
        keyID: String,
        now: ContinuousClock.Instant,
        refusalHold: Duration
    ) -> GiveBack? {
        leasingBudget = false
        guard budget?.windowStart == windowStart else {
            return grant.grantedUSD == 0 ? nil : .budget(keyID: keyID, windowStart: windowStart, amountUSD: grant.grantedUSD)
        }
        budget?.receive(grant, now: now, refusalHold: refusalHold)
        return nil
    }

    /// Receives the store's answer to a lease of `kind`.
    mutating func receive(_ grant: TokenLeaseRule.Grant, kind: RateLimitKind, now: ContinuousClock.Instant) {
        switch kind {
        case .requests:
            leasingRequests = false
            requests?.receive(grant, now: now)
        case .tokens:
            leasingTokens = false
            tokens?.receive(grant, now: now)
        }
    }

    /// A lease for `limit` failed: another request may ask again.
    mutating func leaseFailed(_ limit: Limit) {
        setLeasing(limit, false)
    }

    /// Ends `reservation` with what the request really used: its budget slice gets the reservation
    /// back and pays the cost; its tokens slice is charged what it used beyond its estimate (or
    /// gets back what it did not use).
    mutating func settle(_ reservation: KeyLimiter.Reservation, tokens used: Int, costUSD: Double, now: ContinuousClock.Instant) {
        if reservation.periodStart != nil {
            budget?.settle(reservationUSD: reservation.costUSD, costUSD: costUSD, window: reservation.periodStart, now: now)
        }
        tokens?.settle(by: Double(used) - reservation.tokens, now: now)
    }

    /// Appends to `giveBacks` every slice idle for `idleAfter` at `now` (every slice, when
    /// `idleAfter` is nil), emptying it; slices with a lease in flight are left alone.
    mutating func takeIdle(keyID: String, now: ContinuousClock.Instant, idleAfter: Duration?, into giveBacks: inout [GiveBack]) {
        if !leasingBudget, let windowStart = budget?.windowStart, let amount = budget?.takeIdle(now: now, idleAfter: idleAfter) {
            giveBacks.append(.budget(keyID: keyID, windowStart: windowStart, amountUSD: amount))
        }
        if !leasingRequests, let perMinute = requests?.perMinute, let amount = requests?.takeIdle(now: now, idleAfter: idleAfter) {
            giveBacks.append(.tokens(keyID: keyID, kind: .requests, perMinute: perMinute, amount: amount))
        }
        if !leasingTokens, let perMinute = tokens?.perMinute, let amount = tokens?.takeIdle(now: now, idleAfter: idleAfter) {
            giveBacks.append(.tokens(keyID: keyID, kind: .tokens, perMinute: perMinute, amount: amount))
        }
    }

    /// Puts back a give-back the store did not take: it stays with the replica, to be used or given
    /// back later. A budget give-back of a window the key has left is dropped (that row is history).
    mutating func restore(_ giveBack: GiveBack) {
        switch giveBack {
        case .budget(_, let windowStart, let amount):
            if budget?.windowStart == windowStart { budget?.restore(amount) }
        case .tokens(_, .requests, _, let amount):
            requests?.restore(amount)
        case .tokens(_, .tokens, _, let amount):
            tokens?.restore(amount)
        }
    }
}
