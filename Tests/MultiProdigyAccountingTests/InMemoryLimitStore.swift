import Foundation

@testable import MultiProdigyAccounting

/// A ``SharedLimitStore`` in memory, shared by several ``SharedKeyLimiter``s as replicas share
/// PostgreSQL: an actor applies the same rules the database store applies, each call as one
/// uninterrupted step (the latency is spent before the row is read), with a clock of its own that
/// tests set.
///
/// It counts its calls and remembers their asks, and injects the faults it is told to:
/// ``Fault/unreachable`` throws, ``Fault/hang`` never answers until the fault is lifted.
actor InMemoryLimitStore: SharedLimitStore {
    /// A fault to inject into every call.
    enum Fault: Sendable {
        /// Every call throws ``Unreachable``.
        case unreachable
        /// Every call waits (ignoring cancellation) until the fault is lifted.
        case hang
    }

    /// What ``Fault/unreachable`` throws.
    struct Unreachable: Error {}

    /// A budget row's key.
    struct BudgetRowKey: Hashable {
        var keyID: String
        var windowStart: Date
    }

    /// A token row's key.
    struct TokenRowKey: Hashable {
        var keyID: String
        var kind: RateLimitKind
    }

    /// A `takeTokens` ask.
    struct TokenAsk: Equatable {
        var kind: RateLimitKind
        var needed: Double
        var extra: Double
        var whole: Bool
    }

    private(set) var budgetRows: [BudgetRowKey: BudgetLeaseRule.Row] = [:]
    private(set) var tokenRows: [TokenRowKey: TokenLeaseRule.Row] = [:]
    /// The store's clock, in seconds since 1970.
    var now: Double
    /// What the ledger says a key (by name) spent since a window's start, for new rows.
    let spentSince: @Sendable (_ keyName: String, _ windowStart: Date) -> Double
    private var fault: Fault?
    private var hanging: [CheckedContinuation<Void, Never>] = []
    private let latency: Duration?
    private(set) var budgetGrants = 0
    private(set) var budgetReturns = 0
    private(set) var tokenTakes = 0
    private(set) var tokenReturns = 0
    private(set) var budgetNeeds: [Double] = []
    private(set) var tokenAsks: [TokenAsk] = []

    /// A store at `now`, answering each call after `latency`.
    init(now: Double = 1_000_000, latency: Duration? = nil, spentSince: @escaping @Sendable (String, Date) -> Double = { _, _ in 0 }) {
        self.now = now
        self.latency = latency
        self.spentSince = spentSince
    }

    /// Injects `fault` into every later call (nil lifts it, and ends the calls hanging).
    func inject(_ fault: Fault?) {
        self.fault = fault
        if fault == nil {
            for call in hanging { call.resume() }
            hanging.removeAll()
        }
    }

    /// Moves the store's clock.
    func advance(by seconds: Double) {
        now += seconds
    }

    /// The budget row of `keyID` for the window starting at `windowStart`.
    func budgetRow(_ keyID: String, windowStart: Date) -> BudgetLeaseRule.Row? {
        budgetRows[BudgetRowKey(keyID: keyID, windowStart: windowStart)]
    }

    /// The bucket of `keyID` and `kind`.
    func tokenRow(_ keyID: String, _ kind: RateLimitKind) -> TokenLeaseRule.Row? {
        tokenRows[TokenRowKey(keyID: keyID, kind: kind)]
    }

    func grantBudget(
        keyID: String,
        keyName: String,
        windowStart: Date,
        amountUSD: Double,
        needUSD: Double
    ) async throws
        -> BudgetLeaseRule.Grant
    {
        try await enter()
        budgetGrants += 1
        budgetNeeds.append(needUSD)
        let key = BudgetRowKey(keyID: keyID, windowStart: windowStart)
        let row = budgetRows[key] ?? BudgetLeaseRule.Row(committedUSD: spentSince(keyName, windowStart), overdrawn: false)
        let (next, grant) = BudgetLeaseRule.grant(BudgetLeaseRule.Request(amountUSD: amountUSD, needUSD: needUSD), from: row)
        budgetRows[key] = next
        return grant
    }

    func returnBudget(keyID: String, windowStart: Date, amountUSD: Double) async throws {
        try await enter()
        budgetReturns += 1
        let key = BudgetRowKey(keyID: keyID, windowStart: windowStart)
        guard let row = budgetRows[key] else { return }
        budgetRows[key] = BudgetLeaseRule.giveBack(amountUSD, to: row)
    }

    func takeTokens(
        keyID: String,
        kind: RateLimitKind,
        perMinute: Int,
        needed: Double,
        extra: Double,
        whole: Bool
    ) async throws
        -> TokenLeaseRule.Grant
    {
        try await enter()
        tokenTakes += 1
        tokenAsks.append(TokenAsk(kind: kind, needed: needed, extra: extra, whole: whole))
        let key = TokenRowKey(keyID: keyID, kind: kind)
        let row = tokenRows[key] ?? TokenLeaseRule.fullRow(perMinute: perMinute, now: now)
        let (next, grant) = TokenLeaseRule.take(
            TokenLeaseRule.Request(perMinute: perMinute, needed: needed, extra: extra, whole: whole),
            from: row,
            now: now
        )
        tokenRows[key] = next
        return grant
    }

    func returnTokens(keyID: String, kind: RateLimitKind, perMinute: Int, amount: Double) async throws {
        try await enter()
        tokenReturns += 1
        let key = TokenRowKey(keyID: keyID, kind: kind)
        let row = tokenRows[key] ?? TokenLeaseRule.fullRow(perMinute: perMinute, now: now)
        tokenRows[key] = TokenLeaseRule.giveBack(amount, perMinute: perMinute, to: row, now: now)
    }

    /// Waits out the latency, then applies the fault; what follows runs without suspending, so each
    /// call reads, applies its rule and writes as one step.
    private func enter() async throws {
        if let latency { try? await Task.sleep(for: latency) }
        if fault == .hang {
            // Not cancellable, like a driver stuck on a dead connection; `inject(nil)` ends it.
            await withCheckedContinuation { hanging.append($0) }
        }
        if fault == .unreachable { throw Unreachable() }
    }
}
