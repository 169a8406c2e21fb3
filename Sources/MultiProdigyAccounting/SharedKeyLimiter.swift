import Foundation
import ServiceLifecycle
import Synchronization

/// Enforces virtual keys' budgets and rate limits across every replica of a gateway that share a
/// ``SharedLimitStore``, with no store call on the common request.
///
/// Counting alone, N replicas would let a key spend N budgets and make N times its rate. Asking
/// the store on every request would add a database round trip to each. Instead each replica holds,
/// per key and limit, a *slice* leased from the shared row: a request is admitted when the slices
/// cover it, in one short critical section, exactly as fast as ``KeyLimiter``. Only when a slice
/// runs short does the replica ask the store for more (one call per key and limit at a time; the
/// key's other requests wait for it and then look again), and the store grants by rules that keep
/// the shared truth:
///
/// - **Budgets** (``BudgetLeaseRule``): the shared row never grants beyond the amount except once
///   per window, to the request that finds less left than it needs. Requests in flight and settled
///   together exceed a budget by **at most one reservation, whatever the number of replicas** —
///   what one process allows — plus whatever requests cost beyond their reservations.
/// - **Rates** (``TokenLeaseRule``): one shared ``TokenBucket`` per key and limit, on the store's
///   clock; slices beyond a request's need are 2 % of the limit and only what the bucket holds, so
///   across replicas no more is let in than one bucket lets in, and a refusal carries the
///   `Retry-After` of a bucket in the shared row's state. For requests per minute that is one
///   process's; for tokens it can be shorter, since tokens left in slices too small for a request
///   are not in the shared bucket (so it may refuse at zero where one bucket would have let a last
///   request take it below). Tokens are taken at admission from the estimate and settled at the
///   end with the real count, against the replica's slice (a debt is paid with the next lease).
///
/// Slices a replica does not use are given back by ``run()`` once their key has been idle for
/// ``Configuration/idleAfter``, and all of them at graceful shutdown: until then leasing can only
/// refuse a little early, never admit more. Register the limiter in the service group *before*
/// the HTTP server, so that it shuts down after the server has drained and its last requests have
/// settled.
///
/// When the store fails or does not answer within ``Configuration/storeTimeout``, requests that
/// the slices cover are still admitted as usual; the others are admitted anyway and counted
/// (``OnUnavailable/open``, the default) or refused with
/// ``KeyLimiter/Rejection/storageUnavailable(retryAfter:)`` (``OnUnavailable/closed``), and the
/// store is not asked again for ``Configuration/outageHold``.
///
/// - warning: A replica that dies holding slices takes them with it: what its budget slice held
///   (and its requests in flight reserved) stays committed until the window ends, its token slices
///   are missed until the bucket refills. Both err towards refusing, never towards overspending.
public final class SharedKeyLimiter: KeyLimiting, Service, CustomStringConvertible {
    /// What to do with a request its slices do not cover while the store is unavailable.
    public enum OnUnavailable: String, Sendable, Equatable {
        /// Admit it, count it (``unverifiedAdmissions``), and charge its use to the key once the
        /// store is back: availability over exact limits.
        case open
        /// Refuse it with a 503 `storage_unavailable`: exact limits over availability.
        case closed
    }

    /// How the limiter leases, waits and gives back.
    public struct Configuration: Sendable, Equatable {
        /// What to do with requests the slices do not cover while the store is unavailable. Default `.open`.
        public var onUnavailable: OnUnavailable
        /// How long a store call may take before the store counts as unavailable. Default 2 s.
        public var storeTimeout: Duration
        /// How long the store is not asked after it failed. Default 1 s.
        public var outageHold: Duration
        /// How often ``run()`` gives back idle slices. Default 250 ms.
        public var syncInterval: Duration
        /// How long a key's slice must go unused before it is given back. Default 1 s.
        public var idleAfter: Duration
        /// How long the store's refusal of a budget is remembered, so a key whose budget is spent
        /// does not cost a store call per request. Default 1 s. (A rate refusal is remembered for
        /// its `Retry-After`.)
        public var budgetRefusalHold: Duration

        /// Creates a configuration.
        public init(
            onUnavailable: OnUnavailable = .open,
            storeTimeout: Duration = .seconds(2),
            outageHold: Duration = .seconds(1),
            syncInterval: Duration = .milliseconds(250),
            idleAfter: Duration = .seconds(1),
            budgetRefusalHold: Duration = .seconds(1)
        ) {
            self.onUnavailable = onUnavailable
            self.storeTimeout = storeTimeout
            self.outageHold = outageHold
            self.syncInterval = syncInterval
            self.idleAfter = idleAfter
            self.budgetRefusalHold = budgetRefusalHold
        }
    }

    /// A store call that failed, as reported to the `onStorageError` handler: count every one
    /// (`multiprodigy_storage_errors_total`), log the ones with ``shouldLog``.
    public struct StorageFailure: Sendable {
        /// What the store threw, or ``StoreCallDeadline/TimedOut``.
        public var error: any Error
        /// True for the first failure in a minute: log that one, so an outage is one log line a
        /// minute, not one per request.
        public var shouldLog: Bool
    }

    /// One key's slices on this replica.
    public struct Usage: Sendable, Equatable {
        /// The budget window the slice belongs to; nil when the key has no budget.
        public var periodStart: Date?
        /// USD of the budget slice not reserved (negative: a debt to charge).
        public var budgetBalanceUSD: Double?
        /// USD reserved by requests in flight here.
        public var reservedUSD: Double
        /// USD settled here in the window.
        public var spentUSD: Double
        /// Requests of the requests-per-minute slice.
        public var requestsBalance: Double?
        /// Tokens of the tokens-per-minute slice (negative: a debt to pay).
        public var tokensBalance: Double?
    }

    private struct Slot: Hashable {
        var keyID: String
        var limit: LeasedKey.Limit
    }

    private struct State {
        var keys: [String: LeasedKey] = [:]
        var waiters: [Slot: [CheckedContinuation<Void, Never>]] = [:]
        /// The store is not asked before this, after a failure.
        var storeDownUntil: ContinuousClock.Instant?
        var lastLoggedFailure: ContinuousClock.Instant?
        /// Give-backs of keys forgotten, or of grants that arrived for a window the key had left.
        var orphans: [LeasedKey.GiveBack] = []

        /// Decides what to do with `ask`: the one critical section of an admission.
        mutating func step(
            _ ask: LeasedKey.Ask,
            now: ContinuousClock.Instant,
            configuration: Configuration,
            givingUp: Bool
        ) -> LeasedKey.Step {
            var outage = LeasedKey.Outage.none
            if givingUp || storeDownUntil.map({ now < $0 }) == true {
                let wait = max(.seconds(1), (storeDownUntil ?? now) - now)
                outage = configuration.onUnavailable == .open ? .admit : .refuse(retryAfter: wait)
            }
            return keys[ask.keyID, default: LeasedKey()].admit(ask, now: now, outage: outage)
        }

        /// Notes a failed store call at `now`; returns whether to log it.
        mutating func noteFailure(now: ContinuousClock.Instant, configuration: Configuration) -> Bool {
            storeDownUntil = now + configuration.outageHold
            if let last = lastLoggedFailure, now - last < .seconds(60) { return false }
            lastLoggedFailure = now
            return true
        }
    }

    /// How often one request may wait for or make a lease before it is decided without the store:
    /// a bound that only a key with more requests waiting on one replica than this could reach,
    /// each lease being used up by the others before it gets its turn.
    static let maximumRounds = 100

    /// The shared rows.
    public let store: any SharedLimitStore
    /// How it leases, waits and gives back.
    public let configuration: Configuration
    private let onStorageError: @Sendable (StorageFailure) -> Void
    private let state = Mutex(State())
    private let failedCalls = Atomic<Int>(0)
    private let unverified = Atomic<Int>(0)

    /// Creates a limiter leasing from `store`.
    ///
    /// - Parameters:
    ///   - store: The rows every replica shares.
    ///   - configuration: How it leases, waits and gives back.
    ///   - onStorageError: Called, off any lock, for every failed store call (see ``StorageFailure``).
    public init(
        store: any SharedLimitStore,
        configuration: Configuration = Configuration(),
        onStorageError: @escaping @Sendable (StorageFailure) -> Void = { _ in }
    ) {
        self.store = store
        self.configuration = configuration
        self.onStorageError = onStorageError
    }

    /// `SharedKeyLimiter`: swift-service-lifecycle logs services by their description.
    public var description: String { "SharedKeyLimiter" }

    /// Store calls that failed or timed out since the start.
    public var storageErrors: Int { failedCalls.load(ordering: .relaxed) }

    /// Requests admitted without the store's say (``OnUnavailable/open`` during an outage).
    public var unverifiedAdmissions: Int { unverified.load(ordering: .relaxed) }

    /// Admits a request of the key with `limits`, reserving its estimate, or says why not.
    ///
    /// When the key's slices cover the request this is one critical section and never suspends;
    /// otherwise it asks the store, or waits for the key's request that is already asking.
    public func admit(
        _ limits: KeyLimiter.Limits,
        estimatedTokens: Int,
        estimatedCostUSD: Double,
        now: ContinuousClock.Instant = .now,
        date: Date = Date()
    ) async -> Result<KeyLimiter.Reservation, KeyLimiter.Rejection> {
        var ask = LeasedKey.Ask(
            keyID: limits.id,
            budget: limits.budget,
            windowStart: limits.budget?.window(at: date).start,
            reservationUSD: limits.budget == nil ? 0 : max(0, estimatedCostUSD),
            requestsPerMinute: limits.requestsPerMinute,
            tokensPerMinute: limits.tokensPerMinute,
            tokens: Double(estimatedTokens)
        )
        let configuration = configuration
        var step = state.withLock { $0.step(ask, now: now, configuration: configuration, givingUp: false) }
        for round in 1...Self.maximumRounds {
            switch step {
            case .admitted(let reservation, let verified):
                if !verified { unverified.add(1, ordering: .relaxed) }
                return .success(reservation)
            case .refused(let rejection):
                return .failure(rejection)
            case .wait(let limit):
                await waitForLease(Slot(keyID: limits.id, limit: limit))
                step = state.withLock { $0.step(ask, now: now, configuration: configuration, givingUp: round == Self.maximumRounds) }
            case .lease(let order):
                step = await lease(order, for: &ask, keyName: limits.name, now: now, givingUp: round == Self.maximumRounds)
            }
        }
        switch step {
        case .admitted(let reservation, let verified):
            if !verified { unverified.add(1, ordering: .relaxed) }
            return .success(reservation)
        case .refused(let rejection):
            return .failure(rejection)
        case .wait, .lease:
            // Unreachable: giving up decides without the store. Should it happen, give the lease
            // flag back rather than leave the key waiting for a call never made.
            if case .lease(let order) = step { state.withLock { $0.keys[limits.id]?.leaseFailed(order.limit) } }
            return .failure(.storageUnavailable(retryAfter: .seconds(1)))
        }
    }

    /// Ends `reservation` with what the request really used, against this replica's slices.
    public func settle(_ reservation: KeyLimiter.Reservation, tokens: Int, costUSD: Double, now: ContinuousClock.Instant = .now) {
        state.withLock { $0.keys[reservation.keyID]?.settle(reservation, tokens: tokens, costUSD: costUSD, now: now) }
    }

    /// Forgets a key (revoked): its slices are given back at the next sync.
    public func forget(key id: String) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if var key = state.keys.removeValue(forKey: id) {
                key.takeIdle(keyID: id, now: .now, idleAfter: nil, into: &state.orphans)
            }
            return [LeasedKey.Limit.budget, .requests, .tokens].flatMap {
                state.waiters.removeValue(forKey: Slot(keyID: id, limit: $0)) ?? []
            }
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Forgets every key but those in `active`, as ``forget(key:)`` does each.
    public func forget(keysOtherThan active: Set<String>) {
        let gone = state.withLock { $0.keys.keys.filter { !active.contains($0) } }
        for id in gone { forget(key: id) }
    }

    /// Always nil: a replica sees only its own share; the usage ledger has every replica's rows.
    public func spentUSD(ofKey id: String, inPeriodStarting periodStart: Date) -> Double? { nil }

    /// The key's slices on this replica; nil before its first request.
    public func usage(ofKey id: String) -> Usage? {
        state.withLock { state in
            state.keys[id].map { key in
                Usage(
                    periodStart: key.budget?.windowStart,
                    budgetBalanceUSD: key.budget?.balanceUSD,
                    reservedUSD: key.budget?.reservedUSD ?? 0,
                    spentUSD: key.budget?.spentUSD ?? 0,
                    requestsBalance: key.requests?.balance,
                    tokensBalance: key.tokens?.balance
                )
            }
        }
    }

    /// Gives back idle slices every ``Configuration/syncInterval`` until graceful shutdown, then
    /// every slice.
    public func run() async throws {
        let interval = configuration.syncInterval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { break }
                await self.giveBackIdle(now: .now)
            }
        }
        await giveBackEverything()
    }

    /// Gives back the slices of keys idle for ``Configuration/idleAfter`` at `now`, and what forgotten
    /// keys held. Skipped while the store is known to be unavailable.
    func giveBackIdle(now: ContinuousClock.Instant) async {
        await giveBack(now: now, idleAfter: configuration.idleAfter)
    }

    /// Gives back every slice: at shutdown, when no request is left to use them.
    func giveBackEverything() async {
        await giveBack(now: .now, idleAfter: nil)
    }

    private func giveBack(now: ContinuousClock.Instant, idleAfter: Duration?) async {
        let giveBacks = state.withLock { state -> [LeasedKey.GiveBack] in
            if idleAfter != nil, let down = state.storeDownUntil, now < down { return [] }
            var giveBacks = state.orphans
            state.orphans.removeAll()
            for index in state.keys.indices {
                let keyID = state.keys.keys[index]
                state.keys.values[index].takeIdle(keyID: keyID, now: now, idleAfter: idleAfter, into: &giveBacks)
            }
            return giveBacks
        }
        for (index, giveBack) in giveBacks.enumerated() {
            do {
                try await StoreCallDeadline.run(timeout: configuration.storeTimeout) { [store] in
                    switch giveBack {
                    case .budget(let keyID, let windowStart, let amount):
                        try await store.returnBudget(keyID: keyID, windowStart: windowStart, amountUSD: amount)
                    case .tokens(let keyID, let kind, let perMinute, let amount):
                        try await store.returnTokens(keyID: keyID, kind: kind, perMinute: perMinute, amount: amount)
                    }
                }
            } catch {
                // The rest stays with this replica, to be used or given back once the store is back.
                // The one that failed stays too unless it may have been applied (a timeout, a failure
                // after it was sent): a slice then may be lost, never given back twice, while a
                // debt is charged again rather than perhaps not at all.
                let mayHaveApplied = !(error is StorageNotReached)
                let kept = giveBacks[index...].enumerated().filter { offset, giveBack in
                    !(offset == 0 && mayHaveApplied && giveBack.amount > 0)
                }.map(\.element)
                let shouldLog = state.withLock { state in
                    for giveBack in kept {
                        if state.keys[giveBack.keyID] != nil {
                            state.keys[giveBack.keyID]?.restore(giveBack)
                        } else {
                            state.orphans.append(giveBack)
                        }
                    }
                    return state.noteFailure(now: max(now, .now), configuration: configuration)
                }
                report(error, shouldLog: shouldLog)
                return
            }
        }
    }

    /// Waits until the lease in flight for `slot` is answered (at once if it already is).
    private func waitForLease(_ slot: Slot) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let waiting = state.withLock { state in
                guard state.keys[slot.keyID]?.isLeasing(slot.limit) == true else { return false }
                state.waiters[slot, default: []].append(continuation)
                return true
            }
            if !waiting { continuation.resume() }
        }
    }

    /// Asks the store for `order`, receives the answer, wakes the key's requests waiting for it,
    /// and decides again for `ask` in the same critical section, so the request that asked gets
    /// the first use of what was granted.
    private func lease(
        _ order: LeasedKey.Order,
        for ask: inout LeasedKey.Ask,
        keyName: String,
        now: ContinuousClock.Instant,
        givingUp: Bool
    ) async -> LeasedKey.Step {
        let keyID = ask.keyID
        let slot = Slot(keyID: keyID, limit: order.limit)
        let configuration = configuration
        do {
            switch order {
            case .budget(let windowStart, let amountUSD, let needUSD):
                let grant = try await StoreCallDeadline.run(timeout: configuration.storeTimeout) { [store] in
                    try await store.grantBudget(
                        keyID: keyID,
                        keyName: keyName,
                        windowStart: windowStart,
                        amountUSD: amountUSD,
                        needUSD: needUSD
                    )
                }
                return complete(slot, ask: &ask, now: now, givingUp: givingUp) { state, ask in
                    guard state.keys[keyID] != nil else {
                        if grant.grantedUSD != 0 {
                            state.orphans.append(.budget(keyID: keyID, windowStart: windowStart, amountUSD: grant.grantedUSD))
                        }
                        return
                    }
                    let refusalHold = configuration.budgetRefusalHold
                    if let stale = state.keys[keyID]?.receive(
                        grant,
                        windowStart: windowStart,
                        keyID: keyID,
                        now: now,
                        refusalHold: refusalHold
                    ) {
                        state.orphans.append(stale)
                    } else if grant.overdraft {
                        // The window's overdraft is this request's: it is admitted though the slice
                        // does not cover it.
                        ask.overdraftGranted = true
                    }
                }
            case .tokens(let kind, let perMinute, let needed, let extra):
                let grant = try await StoreCallDeadline.run(timeout: configuration.storeTimeout) { [store] in
                    try await store.takeTokens(
                        keyID: keyID,
                        kind: kind,
                        perMinute: perMinute,
                        needed: needed,
                        extra: extra,
                        whole: kind.takesWholeUnits
                    )
                }
                return complete(slot, ask: &ask, now: now, givingUp: givingUp) { state, _ in
                    guard state.keys[keyID] != nil else {
                        if grant.granted != 0 {
                            state.orphans.append(.tokens(keyID: keyID, kind: kind, perMinute: perMinute, amount: grant.granted))
                        }
                        return
                    }
                    state.keys[keyID]?.receive(grant, kind: kind, now: now)
                }
            }
        } catch {
            var shouldLog = false
            let step = complete(slot, ask: &ask, now: now, givingUp: givingUp) { state, _ in
                state.keys[keyID]?.leaseFailed(order.limit)
                shouldLog = state.noteFailure(now: max(now, .now), configuration: configuration)
            }
            report(error, shouldLog: shouldLog)
            return step
        }
    }

    /// In one critical section: applies `receive` (the store's answer) to the state and the ask,
    /// then decides again; after it, wakes the requests waiting for `slot`.
    private func complete(
        _ slot: Slot,
        ask: inout LeasedKey.Ask,
        now: ContinuousClock.Instant,
        givingUp: Bool,
        receive: (inout State, inout LeasedKey.Ask) -> Void
    ) -> LeasedKey.Step {
        let configuration = configuration
        let (step, waiters) = state.withLock { state in
            receive(&state, &ask)
            return (
                state.step(ask, now: now, configuration: configuration, givingUp: givingUp), state.waiters.removeValue(forKey: slot) ?? []
            )
        }
        for waiter in waiters { waiter.resume() }
        return step
    }

    private func report(_ error: any Error, shouldLog: Bool) {
        failedCalls.add(1, ordering: .relaxed)
        onStorageError(StorageFailure(error: error, shouldLog: shouldLog))
    }
}
