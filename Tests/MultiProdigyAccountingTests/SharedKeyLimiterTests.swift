import Foundation
import Synchronization
import Testing

@testable import MultiProdigyAccounting

/// Several ``SharedKeyLimiter``s sharing one ``InMemoryLimitStore``, as replicas share PostgreSQL.
@Suite struct SharedKeyLimiterTests {
    private static let start = ContinuousClock.now
    private static let november = Date(timeIntervalSince1970: 1_794_700_800)  // mid-November 2026
    private static let december = Date(timeIntervalSince1970: 1_797_292_800)  // mid-December 2026
    private static let novemberStart = Date(timeIntervalSince1970: 1_793_491_200)
    private static let decemberStart = Date(timeIntervalSince1970: 1_796_083_200)

    /// `count` replicas sharing `store`. Their store calls may take a minute before they count as an
    /// outage: these tests count grants, and a store call that a loaded machine (the whole test run
    /// on two cores) delays past the 2 s default must not be taken for an outage and admit into debt.
    private static func replicas(
        _ count: Int,
        sharing store: InMemoryLimitStore,
        onUnavailable: SharedKeyLimiter.OnUnavailable = .open
    )
        -> [SharedKeyLimiter]
    {
        (0..<count).map { _ in
            SharedKeyLimiter(store: store, configuration: .init(onUnavailable: onUnavailable, storeTimeout: .seconds(60)))
        }
    }

    /// The outcome of one admission in a concurrent burst.
    private enum Outcome: Sendable {
        case admitted(replica: Int, KeyLimiter.Reservation)
        case refused(KeyLimiter.Rejection)
    }

    /// `count` admissions at once, spread over `replicas` in turn.
    private static func burst(
        _ count: Int,
        over replicas: [SharedKeyLimiter],
        limits: KeyLimiter.Limits,
        tokens: Int = 10,
        costUSD: Double = 0,
        now: ContinuousClock.Instant = start,
        date: Date = november
    ) async -> [Outcome] {
        await withTaskGroup(of: Outcome.self) { group in
            for index in 0..<count {
                let replica = index % replicas.count
                let limiter = replicas[replica]
                group.addTask {
                    switch await limiter.admit(limits, estimatedTokens: tokens, estimatedCostUSD: costUSD, now: now, date: date) {
                    case .success(let reservation): .admitted(replica: replica, reservation)
                    case .failure(let rejection): .refused(rejection)
                    }
                }
            }
            var outcomes: [Outcome] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
    }

    /// 60 requests at once over 3 replicas against a budget that covers 10 reservations: at most
    /// one reservation beyond it is admitted, as in one process, not one per replica. After
    /// settling, the row holds exactly the settled spend plus what replicas still hold, and giving
    /// back leaves the settled spend.
    @Test func aBudgetHoldsAcrossReplicasWithinOneReservation() async throws {
        let store = InMemoryLimitStore(latency: .milliseconds(1))
        let replicas = Self.replicas(3, sharing: store)
        let limits = KeyLimiter.Limits(id: "k", name: "team-a", budget: KeyLimiter.Budget(amountUSD: 1.0, period: .month))
        let outcomes = await Self.burst(60, over: replicas, limits: limits, costUSD: 0.1)
        var admitted: [(replica: Int, reservation: KeyLimiter.Reservation)] = []
        for outcome in outcomes {
            switch outcome {
            case .admitted(let replica, let reservation): admitted.append((replica, reservation))
            case .refused(let rejection):
                guard case .budget(let spent, 1.0, Self.decemberStart) = rejection else {
                    Issue.record("unexpected refusal \(rejection)")
                    continue
                }
                #expect(spent >= 1.0 - 1e-9)
            }
        }
        #expect(admitted.count <= 11)
        // Slices left with other replicas, each too small for a request, refuse a little early.
        #expect(admitted.count >= 10 - (replicas.count - 1))
        let row = try #require(await store.budgetRow("k", windowStart: Self.novemberStart))
        #expect(row.committedUSD <= 1.0 + 1e-9)

        for (replica, reservation) in admitted {
            replicas[replica].settle(reservation, tokens: 10, costUSD: 0.07)
        }
        let spent = Double(admitted.count) * 0.07
        let held = replicas.compactMap { $0.usage(ofKey: "k")?.budgetBalanceUSD }.reduce(0, +)
        let settled = try #require(await store.budgetRow("k", windowStart: Self.novemberStart))
        #expect(abs(settled.committedUSD - (spent + held)) < 1e-9)
        for replica in replicas { await replica.giveBackEverything() }
        let returned = try #require(await store.budgetRow("k", windowStart: Self.novemberStart))
        #expect(abs(returned.committedUSD - spent) < 1e-9)
    }

    /// Replicas take turns; one gets the window's overdraft, and no replica gets another, even
    /// when settling and giving back leave less than a request needs but more than nothing.
    @Test func onlyOneReplicaOverdrawsAWindow() async throws {
        let store = InMemoryLimitStore()
        let replicas = Self.replicas(3, sharing: store)
        let limits = KeyLimiter.Limits(id: "k", name: "team-a", budget: KeyLimiter.Budget(amountUSD: 1.0, period: .month))
        var admitted: [(replica: Int, reservation: KeyLimiter.Reservation)] = []
        for turn in 0..<12 {
            let outcome = await replicas[turn % 3].admit(
                limits,
                estimatedTokens: 1,
                estimatedCostUSD: 0.3,
                now: Self.start,
                date: Self.november
            )
            if case .success(let reservation) = outcome { admitted.append((turn % 3, reservation)) }
        }
        // $1 covers three of 0.3; the overdraft a fourth; then nothing.
        #expect(admitted.count == 4)
        for (replica, reservation) in admitted { replicas[replica].settle(reservation, tokens: 1, costUSD: 0.2125) }
        for replica in replicas { await replica.giveBackEverything() }
        let row = try #require(await store.budgetRow("k", windowStart: Self.novemberStart))
        #expect(abs(row.committedUSD - 0.85) < 1e-9)
        #expect(row.overdrawn)
        // 0.15 is left, less than a request's 0.3: the overdraft is taken, so every replica refuses.
        var later = 0
        for turn in 0..<6 {
            let now = Self.start + .seconds(3)
            if case .success = await replicas[turn % 3].admit(
                limits,
                estimatedTokens: 1,
                estimatedCostUSD: 0.3,
                now: now,
                date: Self.november
            ) {
                later += 1
            }
        }
        #expect(later == 0)
    }

    /// A new budget period is a new row: November's spend does not count in December, and a
    /// November request settled in December leaves December's slice alone.
    @Test func aNewPeriodIsANewRow() async throws {
        let store = InMemoryLimitStore { name, windowStart in name == "team-a" && windowStart == Self.novemberStart ? 0.75 : 0 }
        let limiter = SharedKeyLimiter(store: store)
        let limits = KeyLimiter.Limits(id: "k", name: "team-a", budget: KeyLimiter.Budget(amountUSD: 1.0, period: .month))
        let first = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.5, now: Self.start, date: Self.november).get()
        // The row started from the ledger's 0.75: the 0.25 left went as the overdraft.
        #expect(try #require(await store.budgetRow("k", windowStart: Self.novemberStart)) == .init(committedUSD: 1.0, overdrawn: true))
        let refused = await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.5, now: Self.start, date: Self.november)
        guard case .failure(.budget(spentUSD: 1.0, amountUSD: 1.0, renewsAt: Self.decemberStart)) = refused else {
            Issue.record("expected November's budget to be spent, got \(refused)")
            return
        }
        let december = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.5, now: Self.start, date: Self.december)
            .get()
        #expect(december.periodStart == Self.decemberStart)
        let decemberRow = try #require(await store.budgetRow("k", windowStart: Self.decemberStart))
        #expect(decemberRow == .init(committedUSD: 0.525, overdrawn: false))
        let held = limiter.usage(ofKey: "k")?.budgetBalanceUSD
        limiter.settle(first, tokens: 1, costUSD: 0.5)
        #expect(limiter.usage(ofKey: "k")?.budgetBalanceUSD == held)
    }

    /// 90 requests in one instant over 3 replicas against 30 requests a minute: 30 are admitted
    /// (the limit, not three times it), and every other is refused with the `Retry-After` one
    /// bucket of 30 a minute gives after 30 requests.
    @Test func requestsPerMinuteHoldAcrossReplicasWithASingleBucketsRetryAfter() async throws {
        let store = InMemoryLimitStore(latency: .milliseconds(1))
        let replicas = Self.replicas(3, sharing: store)
        let limits = KeyLimiter.Limits(id: "k", name: "k", requestsPerMinute: 30)
        let outcomes = await Self.burst(90, over: replicas, limits: limits)

        var bucket = TokenBucket(perMinute: 30, now: Self.start)
        for _ in 0..<30 { _ = bucket.take(1, whole: true, now: Self.start) }
        let refusal = bucket.take(1, whole: true, now: Self.start)
        let single = try #require(refusal)

        var admitted = 0
        for outcome in outcomes {
            switch outcome {
            case .admitted: admitted += 1
            case .refused(let rejection): #expect(rejection == .requests(limit: 30, retryAfter: single))
            }
        }
        #expect(admitted >= 27 && admitted <= 33)
        #expect(admitted == 30)
    }

    /// 300 requests of 150 tokens in one instant over 3 replicas against 10,000 tokens a minute:
    /// never more than one bucket lets in (67: the last on a balance of 100), at most one fewer per
    /// other replica (slices too small for a request, given back within a second), and the rest
    /// wait what one bucket in the shared row's state says.
    ///
    /// That wait can be shorter than one process's: the tokens left in slices are not in the
    /// shared bucket, so it stops at 0 where one bucket would have let a last request take it to
    /// -50. A client retrying then is let in by the bucket's first refill.
    @Test func tokensPerMinuteHoldAcrossReplicas() async throws {
        let store = InMemoryLimitStore(latency: .milliseconds(1))
        let replicas = Self.replicas(3, sharing: store)
        let limits = KeyLimiter.Limits(id: "k", name: "k", tokensPerMinute: 10_000)
        let outcomes = await Self.burst(300, over: replicas, limits: limits, tokens: 150)

        var bucket = TokenBucket(perMinute: 10_000, now: Self.start)
        var single = 0
        while bucket.take(150, now: Self.start) == nil, single < 1_000 { single += 1 }
        #expect(single == 67)
        // One bucket holding what the shared row holds.
        let row = try #require(await store.tokenRow("k", .tokens))
        var shared = TokenBucket(perMinute: 10_000, now: Self.start)
        _ = shared.take(10_000 - row.balance, now: Self.start)
        let refusal = shared.take(150, now: Self.start)
        let wait = try #require(refusal)

        var admitted = 0
        for outcome in outcomes {
            switch outcome {
            case .admitted: admitted += 1
            case .refused(let rejection): #expect(rejection == .tokens(limit: 10_000, retryAfter: wait))
            }
        }
        #expect(admitted <= single)
        #expect(admitted >= single - (replicas.count - 1))
    }

    /// Replicas lease slices of 2 % of the limit beyond their need, and a limit still holds within
    /// 10 % when traffic keeps coming: a minute of requests over 3 replicas, against a bucket
    /// that refills on the store's clock.
    @Test func requestsPerMinuteHoldOverAMinuteWithSlices() async throws {
        let store = InMemoryLimitStore()
        let replicas = Self.replicas(3, sharing: store)
        let limits = KeyLimiter.Limits(id: "k", name: "k", requestsPerMinute: 300)
        var admitted = 0
        // 20 requests every second for a minute: 1200 asked, 300 + 300 refilled at most allowed.
        for second in 0..<60 {
            let now = Self.start + .seconds(second)
            for index in 0..<20 {
                if case .success = await replicas[index % 3].admit(limits, estimatedTokens: 1, estimatedCostUSD: 0, now: now) {
                    admitted += 1
                }
            }
            await store.advance(by: 1)
        }
        // One bucket: 300 at once, then 5 a second for 59 s = 595.
        #expect(Double(admitted) >= 595 * 0.9)
        #expect(admitted <= 595)
    }

    /// Tokens are charged from the estimate and settled with the real count: a request that used
    /// more makes the next lease ask for the debt too; one that used less lets the next request in
    /// with no store call.
    @Test func tokensSettledWithTheRealCountChangeTheNextLease() async throws {
        let store = InMemoryLimitStore()
        let limiter = SharedKeyLimiter(store: store)
        let limits = KeyLimiter.Limits(id: "k", name: "k", tokensPerMinute: 1000)
        let first = try await limiter.admit(limits, estimatedTokens: 100, estimatedCostUSD: 0, now: Self.start).get()
        #expect(await store.tokenAsks == [.init(kind: .tokens, needed: 100, extra: 20, whole: false)])
        #expect(limiter.usage(ofKey: "k")?.tokensBalance == 20)
        limiter.settle(first, tokens: 300, costUSD: 0, now: Self.start)
        #expect(limiter.usage(ofKey: "k")?.tokensBalance == -180)
        let second = try await limiter.admit(limits, estimatedTokens: 100, estimatedCostUSD: 0, now: Self.start).get()
        #expect(await store.tokenAsks.last == .init(kind: .tokens, needed: 280, extra: 20, whole: false))
        #expect(await store.tokenRow("k", .tokens)?.balance == 1000 - 120 - 300)
        limiter.settle(second, tokens: 10, costUSD: 0, now: Self.start)
        #expect(limiter.usage(ofKey: "k")?.tokensBalance == 110)
        _ = try await limiter.admit(limits, estimatedTokens: 100, estimatedCostUSD: 0, now: Self.start).get()
        #expect(await store.tokenTakes == 2)
    }

    /// A request refused by tokens per minute does not use up a request of the requests per minute.
    @Test func aRequestRefusedByTokensKeepsItsRequestUnit() async throws {
        let store = InMemoryLimitStore()
        let limiter = SharedKeyLimiter(store: store)
        let limits = KeyLimiter.Limits(id: "k", name: "k", requestsPerMinute: 100, tokensPerMinute: 1000)
        _ = try await limiter.admit(limits, estimatedTokens: 600, estimatedCostUSD: 0, now: Self.start).get()
        _ = try await limiter.admit(limits, estimatedTokens: 600, estimatedCostUSD: 0, now: Self.start).get()
        let before = limiter.usage(ofKey: "k")?.requestsBalance
        let refused = await limiter.admit(limits, estimatedTokens: 600, estimatedCostUSD: 0, now: Self.start)
        guard case .failure(.tokens(limit: 1000, let wait)) = refused else {
            Issue.record("expected a token-rate refusal, got \(refused)")
            return
        }
        // What KeyLimiter says in the same state: -200 left, above zero after 201 tokens at 1000/min.
        #expect(wait == .milliseconds(12_060))
        #expect(limiter.usage(ofKey: "k")?.requestsBalance == before)
    }

    /// 32 requests of one key arriving together make one store call, not 32.
    @Test func concurrentRequestsOfAKeyShareOneLease() async throws {
        let store = InMemoryLimitStore(latency: .milliseconds(20))
        let limiter = SharedKeyLimiter(store: store)
        let limits = KeyLimiter.Limits(id: "k", name: "k", budget: KeyLimiter.Budget(amountUSD: 100, period: .month))
        let outcomes = await Self.burst(32, over: [limiter], limits: limits, costUSD: 0.01)
        #expect(outcomes.filter { if case .admitted = $0 { true } else { false } }.count == 32)
        #expect(await store.budgetGrants == 1)
    }

    @Test func anUnavailableStoreAdmitsWhenOpenAndCountsIt() async throws {
        // The outage is held on the real clock: this test's instants start now.
        let start = ContinuousClock.now
        let store = InMemoryLimitStore()
        let failures = Mutex<[Bool]>([])
        let limiter = SharedKeyLimiter(store: store) { failure in failures.withLock { $0.append(failure.shouldLog) } }
        let limits = KeyLimiter.Limits(id: "k", name: "k", requestsPerMinute: 60, budget: KeyLimiter.Budget(amountUSD: 10, period: .month))
        await store.inject(.unreachable)
        let reservation = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.5, now: start, date: Self.november).get()
        #expect(limiter.storageErrors == 1)
        #expect(limiter.unverifiedAdmissions == 1)
        #expect(failures.withLock { $0 } == [true])
        // While the store is known to be down it is not asked again.
        _ = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.5, now: start, date: Self.november).get()
        #expect(limiter.storageErrors == 1)
        #expect(limiter.unverifiedAdmissions == 2)
        // What it admitted is a debt, charged once the store is back.
        limiter.settle(reservation, tokens: 1, costUSD: 0.25)
        #expect(limiter.usage(ofKey: "k")?.budgetBalanceUSD == -0.75)
        await store.inject(nil)
        // Past the hold on the real clock too: a loaded machine may have taken over a second to get here.
        _ = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.5, now: .now + .seconds(2), date: Self.november).get()
        let needs = await store.budgetNeeds
        #expect(needs == [1.25])
        // A second failure within the minute is counted, not logged.
        await store.inject(.unreachable)
        await limiter.giveBackIdle(now: .now + .seconds(10))
        #expect(failures.withLock { $0 } == [true, false])
    }

    @Test func anUnavailableStoreRefusesWhenClosedButSlicesStillServe() async throws {
        let store = InMemoryLimitStore()
        let limiter = Self.replicas(1, sharing: store, onUnavailable: .closed)[0]
        let limits = KeyLimiter.Limits(id: "k", name: "k", budget: KeyLimiter.Budget(amountUSD: 100, period: .month))
        // A slice of about $5 leased while the store is up keeps serving through the outage.
        _ = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.5, now: ContinuousClock.now, date: Self.november).get()
        await store.inject(.unreachable)
        for _ in 0..<5 {
            _ = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0.5, now: ContinuousClock.now, date: Self.november)
                .get()
        }
        #expect(limiter.storageErrors == 0)
        let other = KeyLimiter.Limits(id: "other", name: "other", budget: KeyLimiter.Budget(amountUSD: 100, period: .month))
        let refused = await limiter.admit(other, estimatedTokens: 1, estimatedCostUSD: 0.5, now: ContinuousClock.now, date: Self.november)
        guard case .failure(.storageUnavailable(let wait)) = refused else {
            Issue.record("expected a storage refusal, got \(refused)")
            return
        }
        #expect(wait >= .seconds(1))
        #expect(limiter.storageErrors == 1)
        #expect(limiter.unverifiedAdmissions == 0)
        let error = KeyLimitErrors.error(for: .storageUnavailable(retryAfter: .milliseconds(1_200)), keyName: "other")
        #expect(error.status == .serviceUnavailable)
        #expect(error.code == "storage_unavailable")
        #expect(error.retryAfterSeconds == 2)
        #expect(KeyLimitErrors.reason(for: .storageUnavailable(retryAfter: wait)) == "storage_unavailable")
    }

    /// A store that does not answer at all costs a request the timeout, not a hang: the refusal can
    /// only come from the 50 ms timeout. The bound is loose on purpose: the test process runs every
    /// suite on one 2-thread pool, and on a loaded CI machine the timer's task once waited 5.4 s for
    /// a thread (the gateway runs its tasks on its event loops, where this does not happen).
    @Test func aHangingStoreTimesOut() async throws {
        let store = InMemoryLimitStore()
        let limiter = SharedKeyLimiter(store: store, configuration: .init(onUnavailable: .closed, storeTimeout: .milliseconds(50)))
        let limits = KeyLimiter.Limits(id: "k", name: "k", requestsPerMinute: 60)
        await store.inject(.hang)
        let clock = ContinuousClock()
        let began = clock.now
        let refused = await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0)
        let took = clock.now - began
        guard case .failure(.storageUnavailable) = refused else {
            Issue.record("expected a storage refusal, got \(refused)")
            return
        }
        #expect(took < .seconds(30))
        #expect(limiter.storageErrors == 1)
        await store.inject(nil)
    }

    /// Slices of a key idle for a second go back to the shared rows; busy ones stay.
    @Test func idleSlicesGoBackToTheStore() async throws {
        let store = InMemoryLimitStore()
        let limiter = SharedKeyLimiter(store: store)
        let limits = KeyLimiter.Limits(id: "k", name: "k", requestsPerMinute: 300, budget: KeyLimiter.Budget(amountUSD: 10, period: .month))
        let reservation = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 1, now: Self.start, date: Self.november)
            .get()
        // Leased: 1 + 5 % of 9 = 1.45, of which 1 reserved; 1 + 6 requests, of which 1 taken.
        #expect(abs((await store.budgetRow("k", windowStart: Self.novemberStart)?.committedUSD ?? 0) - 1.45) < 1e-12)
        #expect(await store.tokenRow("k", .requests)?.balance == 293)
        await limiter.giveBackIdle(now: Self.start + .milliseconds(500))
        #expect(await store.budgetReturns == 0)
        limiter.settle(reservation, tokens: 1, costUSD: 0.5, now: Self.start + .milliseconds(500))
        await limiter.giveBackIdle(now: Self.start + .milliseconds(1_200))
        // The request slice was idle for a second; the budget was settled 0.7 s ago.
        #expect(await store.tokenRow("k", .requests)?.balance == 299)
        #expect(await store.budgetReturns == 0)
        await limiter.giveBackIdle(now: Self.start + .milliseconds(1_500))
        let row = try #require(await store.budgetRow("k", windowStart: Self.novemberStart))
        #expect(abs(row.committedUSD - 0.5) < 1e-12)
        #expect(limiter.usage(ofKey: "k")?.budgetBalanceUSD == 0)
    }

    /// The service gives idle slices back on its own.
    @Test func theServiceGivesIdleSlicesBack() async throws {
        let store = InMemoryLimitStore()
        let limiter = SharedKeyLimiter(store: store, configuration: .init(syncInterval: .milliseconds(20), idleAfter: .milliseconds(100)))
        let limits = KeyLimiter.Limits(id: "k", name: "k", requestsPerMinute: 300)
        let service = Task { try await limiter.run() }
        _ = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0).get()
        #expect(await store.tokenRow("k", .requests)?.balance == 293)
        var waited = 0
        while await store.tokenReturns == 0, waited < 250 {
            try await Task.sleep(for: .milliseconds(20))
            waited += 1
        }
        #expect(await store.tokenRow("k", .requests)?.balance == 299)
        #expect(limiter.usage(ofKey: "k")?.requestsBalance == 0)
        service.cancel()
        try await service.value
    }

    /// The service gives every slice back when it stops, idle or not.
    @Test func theServiceGivesEverythingBackAtShutdown() async throws {
        let store = InMemoryLimitStore()
        let limiter = SharedKeyLimiter(store: store, configuration: .init(syncInterval: .milliseconds(20), idleAfter: .seconds(600)))
        let limits = KeyLimiter.Limits(id: "k", name: "k", requestsPerMinute: 300)
        let service = Task { try await limiter.run() }
        _ = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0).get()
        try await Task.sleep(for: .milliseconds(100))
        #expect(await store.tokenRow("k", .requests)?.balance == 293)
        service.cancel()
        try await service.value
        #expect(limiter.usage(ofKey: "k")?.requestsBalance == 0)
        #expect(await store.tokenRow("k", .requests)?.balance == 299)
    }

    /// A forgotten (revoked) key's slices go back too.
    @Test func aForgottenKeysSlicesGoBack() async throws {
        let store = InMemoryLimitStore()
        let limiter = SharedKeyLimiter(store: store)
        let limits = KeyLimiter.Limits(id: "k", name: "k", budget: KeyLimiter.Budget(amountUSD: 10, period: .month))
        _ = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 1, now: Self.start, date: Self.november).get()
        limiter.forget(key: "k")
        #expect(limiter.usage(ofKey: "k") == nil)
        await limiter.giveBackIdle(now: Self.start)
        let row = try #require(await store.budgetRow("k", windowStart: Self.novemberStart))
        #expect(abs(row.committedUSD - 1) < 1e-12)
    }

    /// Forgetting every key but the active ones gives back the others' slices and keeps the active
    /// ones' (what a gateway does at each refresh of its keys, whoever revoked them).
    @Test func forgettingAllButTheActiveKeysGivesBackOnlyTheOthersSlices() async throws {
        let store = InMemoryLimitStore()
        let limiter = SharedKeyLimiter(store: store)
        for id in ["a", "b", "c"] {
            let limits = KeyLimiter.Limits(id: id, name: id, requestsPerMinute: 100)
            _ = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0, now: Self.start, date: Self.november).get()
        }
        limiter.forget(keysOtherThan: ["b", "unknown"])
        #expect(limiter.usage(ofKey: "a") == nil && limiter.usage(ofKey: "c") == nil)
        #expect(limiter.usage(ofKey: "b") != nil)
        await limiter.giveBackIdle(now: Self.start)
        #expect(await store.tokenRow("a", .requests)?.balance == 99)
        #expect(await store.tokenRow("c", .requests)?.balance == 99)
        #expect(try #require(await store.tokenRow("b", .requests)?.balance) < 99, "b keeps its slice")
    }

    /// Request accounting can hold either limiter.
    @Test func bothLimitersAreKeyLimiters() async throws {
        let limiters: [any KeyLimiting] = [KeyLimiter(), SharedKeyLimiter(store: InMemoryLimitStore())]
        let limits = KeyLimiter.Limits(id: "k", name: "k", requestsPerMinute: 1)
        for limiter in limiters {
            let reservation = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0, now: Self.start, date: Self.november)
                .get()
            limiter.settle(reservation, tokens: 1, costUSD: 0, now: Self.start)
            let refused = await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0, now: Self.start, date: Self.november)
            guard case .failure(.requests(limit: 1, retryAfter: .seconds(60))) = refused else {
                Issue.record("expected \(type(of: limiter)) to refuse a second request a minute, got \(refused)")
                continue
            }
            limiter.forget(key: "k")
        }
    }
}
