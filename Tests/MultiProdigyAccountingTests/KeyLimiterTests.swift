import Foundation
import Synchronization
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyResilience

@Suite struct KeyLimiterTests {
    private static let start = ContinuousClock.now
    private static let month = Date(timeIntervalSince1970: 1_793_491_200)  // 2026-11-01T00:00:00Z
    private static let nextMonth = Date(timeIntervalSince1970: 1_796_083_200)  // 2026-12-01T00:00:00Z

    /// Mid-November and mid-December 2026.
    private static let november = Date(timeIntervalSince1970: 1_794_700_800)
    private static let december = Date(timeIntervalSince1970: 1_797_292_800)

    private static func budget(_ amount: Double) -> KeyLimiter.Budget {
        KeyLimiter.Budget(amountUSD: amount, period: .month)
    }

    @Test func aBudgetAdmitsWhileSomethingIsLeftCountingReservations() async throws {
        let limiter = KeyLimiter()
        let limits = KeyLimiter.Limits(id: "k1", name: "team-a", budget: Self.budget(1.0))
        var reservations: [KeyLimiter.Reservation] = []
        for _ in 0..<4 {
            reservations.append(try await limiter.admit(limits, estimatedTokens: 10, estimatedCostUSD: 0.3, date: Self.november).get())
        }
        // 4 × 0.3 reserved = 1.2: nothing left, although nothing is settled yet.
        await #expect(throws: KeyLimiter.Rejection.budget(spentUSD: 0, amountUSD: 1.0, renewsAt: Self.nextMonth)) {
            try await limiter.admit(limits, estimatedTokens: 10, estimatedCostUSD: 0.3, date: Self.november).get()
        }
        for reservation in reservations { limiter.settle(reservation, tokens: 10, costUSD: 0.3) }
        let usage = try #require(limiter.usage(ofKey: "k1"))
        // Overspent by one request's reservation: the last one admitted while something was left.
        #expect(abs(usage.spentUSD - 1.2) < 1e-9)
        #expect(usage.reservedUSD == 0)
    }

    @Test func concurrentRequestsOverspendByAtMostOneEstimate() async throws {
        let limiter = KeyLimiter()
        let limits = KeyLimiter.Limits(id: "k", name: "k", budget: KeyLimiter.Budget(amountUSD: 1.0, period: .total))
        let admitted = SharedState(0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    guard case .success(let reservation) = await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.07) else {
                        return
                    }
                    admitted.withLock { $0 += 1 }
                    try? await Task.sleep(for: .milliseconds(1))
                    limiter.settle(reservation, tokens: 1, costUSD: 0.07)
                }
            }
        }
        let spent = try #require(limiter.usage(ofKey: "k")).spentUSD
        // 15 × 0.07 = 1.05 is the first total at or over 1: admitted while 0.98 < 1, then no more.
        #expect(admitted.withLock { $0 } == 15)
        #expect(spent <= 1.0 + 0.07 + 1e-9)
    }

    @Test func aNewPeriodStartsAfreshAndPastSpendIsReadOnce() async throws {
        let lookups = SharedState(0)
        let limiter = KeyLimiter { name, since in
            lookups.withLock { $0 += 1 }
            #expect(name == "team-a")
            #expect(since == Self.month)
            return 0.95
        }
        let limits = KeyLimiter.Limits(id: "k1", name: "team-a", budget: Self.budget(1.0))
        let reservation = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.1, date: Self.november).get()
        limiter.settle(reservation, tokens: 1, costUSD: 0.1)
        await #expect(throws: KeyLimiter.Rejection.self) {
            try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.1, date: Self.november).get()
        }
        // December: a new period, the budget whole again.
        let december = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.1, date: Self.december).get()
        limiter.settle(december, tokens: 1, costUSD: 0.1)
        // A request that read the clock in November but is admitted late does not take the period back.
        await #expect(throws: Never.self) {
            try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.1, date: Self.november).get()
        }
        #expect(limiter.usage(ofKey: "k1")?.periodStart == Self.nextMonth)
        #expect(abs((limiter.usage(ofKey: "k1")?.spentUSD ?? 0) - 0.1) < 1e-9)
        #expect(lookups.withLock { $0 } == 1)
    }

    @Test func requestsPerMinuteRefillContinuously() async throws {
        let limiter = KeyLimiter()
        let limits = KeyLimiter.Limits(id: "k", name: "k", requestsPerMinute: 3)
        for _ in 0..<3 {
            await #expect(throws: Never.self) {
                try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0, now: Self.start).get()
            }
        }
        await #expect(throws: KeyLimiter.Rejection.requests(limit: 3, retryAfter: .seconds(20))) {
            try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0, now: Self.start).get()
        }
        // One request's worth comes back every 20 s.
        let later = Self.start + .seconds(20)
        await #expect(throws: Never.self) { try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0, now: later).get() }
        await #expect(throws: KeyLimiter.Rejection.self) {
            try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0, now: later).get()
        }
    }

    @Test func tokensPerMinuteSettleToWhatWasReallyUsed() async throws {
        let limiter = KeyLimiter()
        let limits = KeyLimiter.Limits(id: "k", name: "k", requestsPerMinute: 100, tokensPerMinute: 1000)
        let first = try await limiter.admit(limits, estimatedTokens: 600, estimatedCostUSD: 0, now: Self.start).get()
        _ = try await limiter.admit(limits, estimatedTokens: 600, estimatedCostUSD: 0, now: Self.start).get()
        // -200 left: the next waits until the bucket is above zero again (201 tokens at 1000/min).
        let refused = await limiter.admit(limits, estimatedTokens: 600, estimatedCostUSD: 0, now: Self.start)
        guard case .failure(.tokens(limit: 1000, let wait)) = refused else {
            Issue.record("expected a token-rate refusal, got \(refused)")
            return
        }
        #expect(wait == .milliseconds(12_060))
        // A refused request gives its place in the request rate back.
        #expect(limiter.usage(ofKey: "k")?.requests?.balance == 98)
        // The first request used only 100 of its 600: 300 are free again at once.
        limiter.settle(first, tokens: 100, costUSD: 0, now: Self.start)
        await #expect(throws: Never.self) {
            try await limiter.admit(limits, estimatedTokens: 600, estimatedCostUSD: 0, now: Self.start).get()
        }
    }

    @Test func bucketsNeverSaveMoreThanAMinute() async {
        var bucket = TokenBucket(perMinute: 60, now: Self.start)
        #expect(bucket.take(60, now: Self.start) == nil)
        #expect(bucket.remaining(now: Self.start + .seconds(3600)) == 60)
        bucket.adjust(by: -500, now: Self.start + .seconds(3600))
        #expect(bucket.balance == 60)
    }
}
