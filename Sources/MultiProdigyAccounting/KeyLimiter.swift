import Foundation
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import Synchronization

/// Enforces virtual keys' budgets and rate limits, in memory, for every replica-less gateway.
///
/// A request is admitted while its key has budget and rate left, and reserves what it is expected
/// to use (its tokens and its cost, from the plan's estimate). When it ends, the reservation is
/// settled with what it really used. Concurrent requests see each other's reservations, so a
/// budget is overspent by at most one in-flight request's estimate (the last one admitted while
/// some budget was left), plus whatever requests used beyond their estimates.
///
/// What a key spent in its current budget period before the gateway started is read once, from
/// the usage ledger, when the key is first used.
public final class KeyLimiter: Sendable {
    /// What a key allows.
    public struct Limits: Sendable, Equatable {
        /// The key's id: its state is kept under it.
        public var id: String
        /// Its name, as the ledger records it.
        public var name: String
        /// `--rpm`.
        public var requestsPerMinute: Int?
        /// `--tpm`.
        public var tokensPerMinute: Int?
        /// `--budget`: USD per period, with the current period's bounds.
        public var budget: Budget?

        /// Creates limits.
        public init(id: String, name: String, requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, budget: Budget? = nil) {
            self.id = id
            self.name = name
            self.requestsPerMinute = requestsPerMinute
            self.tokensPerMinute = tokensPerMinute
            self.budget = budget
        }
    }

    /// A budget: USD per calendar period.
    public struct Budget: Sendable, Equatable {
        /// USD allowed in a period.
        public var amountUSD: Double
        /// The period.
        public var period: BudgetPeriod
        /// Spend before this does not count: the key's creation, so a key made again under an old
        /// name does not inherit its spend.
        public var notBefore: Date

        /// Creates a budget.
        public init(amountUSD: Double, period: BudgetPeriod, notBefore: Date = .distantPast) {
            self.amountUSD = amountUSD
            self.period = period
            self.notBefore = notBefore
        }

        /// The current window at `date`: its start, and its end (nil for a budget that never renews).
        func window(at date: Date) -> (start: Date, end: Date?) {
            (max(period.start(containing: date), notBefore), period.end(containing: date))
        }
    }

    /// What an admitted request holds until it is settled.
    public struct Reservation: Sendable {
        let keyID: String
        let tokens: Double
        let costUSD: Double
        let periodStart: Date?
    }

    /// Why a request was refused.
    public enum Rejection: Error, Sendable, Equatable {
        /// The budget is used up: `spent` of `amount`, renewed at `renewsAt` (nil: never).
        case budget(spentUSD: Double, amountUSD: Double, renewsAt: Date?)
        /// Too many requests this minute; try again after `retryAfter`.
        case requests(limit: Int, retryAfter: Duration)
        /// Too many tokens this minute; try again after `retryAfter`.
        case tokens(limit: Int, retryAfter: Duration)
        /// The store replicas share limits through is unreachable and the gateway is set to refuse
        /// what it cannot check (``SharedKeyLimiter/OnUnavailable/closed``); try again after `retryAfter`.
        case storageUnavailable(retryAfter: Duration)
    }

    /// One key's running state.
    public struct Usage: Sendable, Equatable {
        /// USD spent in the current period, settled requests only.
        public var spentUSD: Double
        /// USD reserved by requests in flight.
        public var reservedUSD: Double
        /// Start of the period `spentUSD` counts.
        public var periodStart: Date?
        var requests: TokenBucket?
        var tokens: TokenBucket?
    }

    private let state = Mutex<[String: Usage]>([:])
    private let spentSince: @Sendable (_ keyName: String, _ since: Date) async -> Double

    /// Creates a limiter.
    ///
    /// - Parameter spentSince: What a key (by name) spent since a date, from the usage ledger;
    ///   asked once per key when it is first used, and not while holding any lock.
    public init(spentSince: @escaping @Sendable (_ keyName: String, _ since: Date) async -> Double = { _, _ in 0 }) {
        self.spentSince = spentSince
    }

    /// Admits a request of the key with `limits`, reserving its estimate, or says why not.
    public func admit(
        _ limits: Limits,
        estimatedTokens: Int,
        estimatedCostUSD: Double,
        now: ContinuousClock.Instant = .now,
        date: Date = Date()
    ) async -> Result<Reservation, Rejection> {
        let window = limits.budget?.window(at: date)
        var loaded: Double?
        if let window, state.withLock({ $0[limits.id] }) == nil { loaded = await spentSince(limits.name, window.start) }
        return state.withLock { keys in
            var usage =
                keys[limits.id]
                ?? Usage(spentUSD: loaded ?? 0, reservedUSD: 0, periodStart: window?.start)
            defer { keys[limits.id] = usage }
            if let budget = limits.budget, let window {
                if let current = usage.periodStart {
                    // A new period: what was spent before counts no more. A request that read the
                    // clock just before another crossed into the next period never takes it back.
                    if window.start > current {
                        usage.periodStart = window.start
                        usage.spentUSD = 0
                    }
                } else {
                    usage.periodStart = window.start
                }
                guard usage.spentUSD + usage.reservedUSD < budget.amountUSD else {
                    let renewsAt = usage.periodStart.flatMap { budget.period.end(containing: $0) }
                    return .failure(.budget(spentUSD: usage.spentUSD, amountUSD: budget.amountUSD, renewsAt: renewsAt))
                }
            }
            if let rpm = limits.requestsPerMinute {
                var bucket = usage.requests.flatMap { $0.capacity == Double(rpm) ? $0 : nil } ?? TokenBucket(perMinute: rpm, now: now)
                if let wait = bucket.take(1, whole: true, now: now) {
                    usage.requests = bucket
                    return .failure(.requests(limit: rpm, retryAfter: wait))
                }
                usage.requests = bucket
            }
            if let tpm = limits.tokensPerMinute {
                var bucket = usage.tokens.flatMap { $0.capacity == Double(tpm) ? $0 : nil } ?? TokenBucket(perMinute: tpm, now: now)
                if let wait = bucket.take(Double(estimatedTokens), now: now) {
                    usage.tokens = bucket
                    // The request never ran: its place in the request rate is given back.
                    usage.requests?.adjust(by: -1, now: now)
                    return .failure(.tokens(limit: tpm, retryAfter: wait))
                }
                usage.tokens = bucket
            }
            let cost = limits.budget == nil ? 0 : max(0, estimatedCostUSD)
            usage.reservedUSD += cost
            return .success(Reservation(keyID: limits.id, tokens: Double(estimatedTokens), costUSD: cost, periodStart: usage.periodStart))
        }
    }

    /// Ends `reservation` with what the request really used.
    public func settle(_ reservation: Reservation, tokens: Int, costUSD: Double, now: ContinuousClock.Instant = .now) {
        state.withLock { keys in
            guard var usage = keys[reservation.keyID] else { return }
            usage.reservedUSD = max(0, usage.reservedUSD - reservation.costUSD)
            if reservation.periodStart == nil || usage.periodStart == reservation.periodStart {
                usage.spentUSD += costUSD
            }
            usage.tokens?.adjust(by: Double(tokens) - reservation.tokens, now: now)
            keys[reservation.keyID] = usage
        }
    }

    /// The key's running state; nil before its first request.
    public func usage(ofKey id: String) -> Usage? {
        state.withLock { $0[id] }
    }

    /// Forgets a key (revoked).
    public func forget(key id: String) {
        state.withLock { _ = $0.removeValue(forKey: id) }
    }

    /// Forgets every key but those in `active`.
    public func forget(keysOtherThan active: Set<String>) {
        state.withLock { keys in keys = keys.filter { active.contains($0.key) } }
    }
}
