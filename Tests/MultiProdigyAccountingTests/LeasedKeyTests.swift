import Foundation
import Testing

@testable import MultiProdigyAccounting

/// ``LeasedKey``: what one replica does with one request of a key, step by step.
@Suite struct LeasedKeyTests {
    private static let start = ContinuousClock.now
    private static let november = Date(timeIntervalSince1970: 1_793_491_200)  // 2026-11-01T00:00:00Z
    private static let december = Date(timeIntervalSince1970: 1_796_083_200)  // 2026-12-01T00:00:00Z

    private static let budget = KeyLimiter.Budget(amountUSD: 10, period: .month)

    private static func ask(cost: Double = 0.5, tokens: Double = 100, rpm: Int? = 300, tpm: Int? = 10_000) -> LeasedKey.Ask {
        LeasedKey.Ask(
            keyID: "k",
            budget: budget,
            windowStart: november,
            reservationUSD: cost,
            requestsPerMinute: rpm,
            tokensPerMinute: tpm,
            tokens: tokens
        )
    }

    private static func granted(_ amount: Double) -> TokenLeaseRule.Grant {
        TokenLeaseRule.Grant(granted: amount, retryAfter: nil)
    }

    private static func grantedUSD(_ amount: Double, overdraft: Bool = false) -> BudgetLeaseRule.Grant {
        BudgetLeaseRule.Grant(grantedUSD: amount, overdraft: overdraft, refused: false, committedUSD: 0)
    }

    /// A new key leases each limit in turn (budget, requests, tokens), then admits from its slices
    /// with no lease at all.
    @Test func aNewKeyLeasesEachLimitInTurnThenAdmitsLocally() throws {
        var key = LeasedKey()
        guard case .lease(let first) = key.admit(Self.ask(), now: Self.start, outage: .none) else {
            Issue.record("expected a budget lease")
            return
        }
        #expect(first == .budget(windowStart: Self.november, amountUSD: 10, needUSD: 0.5))
        #expect(key.isLeasing(.budget))
        // Another request of the key waits for that lease rather than asking too.
        guard case .wait(.budget) = key.admit(Self.ask(), now: Self.start, outage: .none) else {
            Issue.record("expected to wait for the budget lease")
            return
        }
        #expect(key.receive(Self.grantedUSD(1), windowStart: Self.november, keyID: "k", now: Self.start, refusalHold: .seconds(1)) == nil)
        #expect(!key.isLeasing(.budget))
        guard case .lease(let second) = key.admit(Self.ask(), now: Self.start, outage: .none) else {
            Issue.record("expected a requests lease")
            return
        }
        #expect(second == .tokens(.requests, perMinute: 300, needed: 1, extra: 6))
        key.receive(Self.granted(7), kind: .requests, now: Self.start)
        guard case .lease(let third) = key.admit(Self.ask(), now: Self.start, outage: .none) else {
            Issue.record("expected a tokens lease")
            return
        }
        #expect(third == .tokens(.tokens, perMinute: 10_000, needed: 100, extra: 200))
        key.receive(Self.granted(300), kind: .tokens, now: Self.start)
        guard case .admitted(let reservation, verified: true) = key.admit(Self.ask(), now: Self.start, outage: .none) else {
            Issue.record("expected an admission")
            return
        }
        #expect(reservation.costUSD == 0.5)
        #expect(reservation.tokens == 100)
        #expect(reservation.periodStart == Self.november)
        #expect(key.budget?.balanceUSD == 0.5)
        #expect(key.requests?.balance == 6)
        #expect(key.tokens?.balance == 200)
        // And a second one, from what is left, with no store call.
        guard case .admitted = key.admit(Self.ask(), now: Self.start, outage: .none) else {
            Issue.record("expected a second admission from the slices")
            return
        }
        #expect(key.budget?.balanceUSD == 0)
    }

    /// A request refused by one limit takes nothing from the others.
    @Test func aRefusalTakesNothingFromTheOtherSlices() {
        var key = LeasedKey()
        _ = key.admit(Self.ask(), now: Self.start, outage: .none)
        _ = key.receive(Self.grantedUSD(2), windowStart: Self.november, keyID: "k", now: Self.start, refusalHold: .seconds(1))
        _ = key.admit(Self.ask(), now: Self.start, outage: .none)
        key.receive(Self.granted(5), kind: .requests, now: Self.start)
        _ = key.admit(Self.ask(), now: Self.start, outage: .none)
        key.receive(TokenLeaseRule.Grant(granted: 0, retryAfter: .seconds(3)), kind: .tokens, now: Self.start)
        let step = key.admit(Self.ask(), now: Self.start + .seconds(1), outage: .none)
        guard case .refused(.tokens(limit: 10_000, retryAfter: .seconds(2))) = step else {
            Issue.record("expected the remembered token refusal, got \(step)")
            return
        }
        #expect(key.budget?.balanceUSD == 2)
        #expect(key.requests?.balance == 5)
    }

    @Test func theBudgetIsExaminedFirstAsKeyLimiterDoes() {
        var key = LeasedKey()
        _ = key.admit(Self.ask(), now: Self.start, outage: .none)
        _ = key.receive(
            BudgetLeaseRule.Grant(grantedUSD: 0, overdraft: false, refused: true, committedUSD: 10.25),
            windowStart: Self.november,
            keyID: "k",
            now: Self.start,
            refusalHold: .seconds(1)
        )
        let step = key.admit(Self.ask(), now: Self.start, outage: .none)
        guard case .refused(.budget(spentUSD: 10.25, amountUSD: 10, renewsAt: Self.december)) = step else {
            Issue.record("expected the budget refusal, got \(step)")
            return
        }
        // A second later the refusal is forgotten and the store is asked again.
        guard case .lease(.budget) = key.admit(Self.ask(), now: Self.start + .seconds(1), outage: .none) else {
            Issue.record("expected a new budget lease")
            return
        }
    }

    /// The request granted the overdraft is admitted though its slice does not cover it; the next
    /// one is not.
    @Test func theOverdraftAdmitsItsRequestIntoDebt() {
        var key = LeasedKey()
        var ask = Self.ask(rpm: nil, tpm: nil)
        _ = key.admit(ask, now: Self.start, outage: .none)
        _ = key.receive(
            Self.grantedUSD(0.125, overdraft: true),
            windowStart: Self.november,
            keyID: "k",
            now: Self.start,
            refusalHold: .seconds(1)
        )
        guard case .lease(.budget(_, _, let need)) = key.admit(ask, now: Self.start, outage: .none) else {
            Issue.record("expected another lease without the overdraft")
            return
        }
        #expect(need == 0.375)
        _ = key.receive(
            BudgetLeaseRule.Grant(grantedUSD: 0, overdraft: false, refused: true, committedUSD: 10),
            windowStart: Self.november,
            keyID: "k",
            now: Self.start,
            refusalHold: .seconds(1)
        )
        ask.overdraftGranted = true
        guard case .admitted = key.admit(ask, now: Self.start, outage: .none) else {
            Issue.record("expected the overdraft to admit")
            return
        }
        #expect(key.budget?.balanceUSD == -0.375)
    }

    @Test func anOutageAdmitsIntoDebtWhenOpenAndRefusesWhenClosedButSlicesStillServe() {
        var open = LeasedKey()
        guard case .admitted(_, verified: false) = open.admit(Self.ask(), now: Self.start, outage: .admit) else {
            Issue.record("expected an unverified admission")
            return
        }
        #expect(open.budget?.balanceUSD == -0.5)
        #expect(open.requests?.balance == -1)
        #expect(open.tokens?.balance == -100)
        #expect(!open.isLeasing(.budget))

        var closed = LeasedKey()
        guard
            case .refused(.storageUnavailable(retryAfter: .seconds(1))) = closed.admit(
                Self.ask(),
                now: Self.start,
                outage: .refuse(retryAfter: .seconds(1))
            )
        else {
            Issue.record("expected a storage refusal")
            return
        }
        // A key whose slices cover the request is admitted as usual.
        _ = closed.admit(Self.ask(), now: Self.start, outage: .none)
        _ = closed.receive(Self.grantedUSD(1), windowStart: Self.november, keyID: "k", now: Self.start, refusalHold: .seconds(1))
        _ = closed.admit(Self.ask(), now: Self.start, outage: .none)
        closed.receive(Self.granted(1), kind: .requests, now: Self.start)
        _ = closed.admit(Self.ask(), now: Self.start, outage: .none)
        closed.receive(Self.granted(100), kind: .tokens, now: Self.start)
        guard case .admitted(_, verified: true) = closed.admit(Self.ask(), now: Self.start, outage: .refuse(retryAfter: .seconds(1))) else {
            Issue.record("expected the slices to admit during the outage")
            return
        }
    }

    @Test func settlingPaysTheBudgetAndTheTokensTheRealFigures() throws {
        var key = LeasedKey()
        let ask = Self.ask()
        _ = key.admit(ask, now: Self.start, outage: .none)
        _ = key.receive(Self.grantedUSD(1), windowStart: Self.november, keyID: "k", now: Self.start, refusalHold: .seconds(1))
        _ = key.admit(ask, now: Self.start, outage: .none)
        key.receive(Self.granted(1), kind: .requests, now: Self.start)
        _ = key.admit(ask, now: Self.start, outage: .none)
        key.receive(Self.granted(100), kind: .tokens, now: Self.start)
        guard case .admitted(let reservation, _) = key.admit(ask, now: Self.start, outage: .none) else {
            Issue.record("expected an admission")
            return
        }
        key.settle(reservation, tokens: 250, costUSD: 0.75, now: Self.start)
        #expect(key.budget?.balanceUSD == 0.25)
        #expect(key.budget?.spentUSD == 0.75)
        #expect(key.tokens?.balance == -150)
        #expect(key.requests?.balance == 0)
    }

    @Test func idleSlicesAreGivenBackButNotWhileLeasing() {
        var key = LeasedKey()
        _ = key.admit(Self.ask(), now: Self.start, outage: .none)
        _ = key.receive(Self.grantedUSD(1), windowStart: Self.november, keyID: "k", now: Self.start, refusalHold: .seconds(1))
        _ = key.admit(Self.ask(), now: Self.start, outage: .none)
        key.receive(Self.granted(3), kind: .requests, now: Self.start)
        // The tokens lease is in flight: that slice is left alone.
        _ = key.admit(Self.ask(), now: Self.start, outage: .none)
        var giveBacks: [LeasedKey.GiveBack] = []
        key.takeIdle(keyID: "k", now: Self.start + .seconds(1), idleAfter: .seconds(1), into: &giveBacks)
        #expect(
            giveBacks == [
                .budget(keyID: "k", windowStart: Self.november, amountUSD: 1),
                .tokens(keyID: "k", kind: .requests, perMinute: 300, amount: 3),
            ]
        )
        #expect(key.isLeasing(.tokens))
        // A give-back the store did not take comes back to the slice.
        key.restore(giveBacks[0])
        #expect(key.budget?.balanceUSD == 1)
    }

    @Test func aGrantForAWindowTheKeyHasLeftIsGivenBack() {
        var key = LeasedKey()
        _ = key.admit(Self.ask(), now: Self.start, outage: .none)
        var december = Self.ask()
        december.windowStart = Self.december
        _ = key.admit(december, now: Self.start, outage: .none)
        let stale = key.receive(Self.grantedUSD(1), windowStart: Self.november, keyID: "k", now: Self.start, refusalHold: .seconds(1))
        #expect(stale == .budget(keyID: "k", windowStart: Self.november, amountUSD: 1))
        #expect(key.budget?.balanceUSD == 0)
        #expect(!key.isLeasing(.budget))
    }
}
