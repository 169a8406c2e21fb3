import Foundation
import Testing

@testable import MultiProdigyAccounting

/// ``LeasedBudget`` and ``LeasedTokens``: a replica's slices, step by step with literal figures.
@Suite struct LeasedSliceTests {
    private static let start = ContinuousClock.now
    private static let november = Date(timeIntervalSince1970: 1_793_491_200)  // 2026-11-01T00:00:00Z
    private static let december = Date(timeIntervalSince1970: 1_796_083_200)  // 2026-12-01T00:00:00Z

    private static func grant(_ usd: Double) -> BudgetLeaseRule.Grant {
        BudgetLeaseRule.Grant(grantedUSD: usd, overdraft: false, refused: false, committedUSD: 0)
    }

    @Test func anEmptyBudgetSliceCoversNothingNotEvenAFreeRequest() {
        let slice = LeasedBudget(windowStart: Self.november, now: Self.start)
        #expect(!slice.covers(0.1))
        #expect(!slice.covers(0))
        #expect(slice.needUSD(for: 0.1) == 0.1)
    }

    @Test func aBudgetSliceAdmitsWhatItCoversAndAsksForTheRest() {
        var slice = LeasedBudget(windowStart: Self.november, now: Self.start)
        slice.receive(Self.grant(0.25), now: Self.start, refusalHold: .seconds(1))
        #expect(slice.covers(0.25))
        #expect(!slice.covers(0.26))
        slice.admit(0.125, now: Self.start)
        #expect(slice.balanceUSD == 0.125)
        #expect(slice.reservedUSD == 0.125)
        #expect(slice.covers(0.125))
        #expect(!slice.covers(0.25))
        #expect(slice.needUSD(for: 0.25) == 0.125)
        #expect(slice.covers(0))
    }

    /// Settling gives the reservation back and takes the cost: less than reserved grows the slice,
    /// more makes a debt that the next ask pays.
    struct SettleCase: Sendable, CustomTestStringConvertible {
        var balance: Double
        var reservation: Double
        var cost: Double
        var balanceAfter: Double
        var needAfter: Double  // for a request reserving 0.25

        var testDescription: String { "balance \(balance), reserved \(reservation), cost \(cost)" }
    }

    @Test(arguments: [
        SettleCase(balance: 0.5, reservation: 0.25, cost: 0.125, balanceAfter: 0.375, needAfter: -0.125),
        SettleCase(balance: 0.25, reservation: 0.25, cost: 0.25, balanceAfter: 0, needAfter: 0.25),
        SettleCase(balance: 0.25, reservation: 0.25, cost: 0.75, balanceAfter: -0.5, needAfter: 0.75),
        SettleCase(balance: 0.25, reservation: 0.25, cost: 0, balanceAfter: 0.25, needAfter: 0),
    ])
    func settlingABudgetSlice(_ testCase: SettleCase) {
        var slice = LeasedBudget(windowStart: Self.november, now: Self.start)
        slice.receive(Self.grant(testCase.balance), now: Self.start, refusalHold: .seconds(1))
        slice.admit(testCase.reservation, now: Self.start)
        slice.settle(reservationUSD: testCase.reservation, costUSD: testCase.cost, window: Self.november, now: Self.start)
        #expect(slice.balanceUSD == testCase.balanceAfter)
        #expect(slice.reservedUSD == 0)
        #expect(slice.spentUSD == testCase.cost)
        #expect(slice.needUSD(for: 0.25) == testCase.needAfter)
    }

    @Test func aNewWindowStartsAnEmptySliceAndOldWindowsAreIgnored() {
        var slice = LeasedBudget(windowStart: Self.november, now: Self.start)
        slice.receive(Self.grant(0.5), now: Self.start, refusalHold: .seconds(1))
        slice.admit(0.25, now: Self.start)
        slice.enter(window: Self.december, now: Self.start)
        #expect(slice.windowStart == Self.december)
        #expect(slice.balanceUSD == 0)
        #expect(slice.reservedUSD == 0)
        // November's request settles into nothing; a late November request does not move the slice back.
        slice.settle(reservationUSD: 0.25, costUSD: 0.125, window: Self.november, now: Self.start)
        slice.enter(window: Self.november, now: Self.start)
        #expect(slice.windowStart == Self.december)
        #expect(slice.balanceUSD == 0)
        #expect(slice.spentUSD == 0)
    }

    @Test func aBudgetRefusalIsRememberedForItsHoldAndAGrantClearsIt() {
        var slice = LeasedBudget(windowStart: Self.november, now: Self.start)
        slice.receive(
            BudgetLeaseRule.Grant(grantedUSD: 0, overdraft: false, refused: true, committedUSD: 1.5),
            now: Self.start,
            refusalHold: .seconds(1)
        )
        #expect(slice.cachedRefusal(now: Self.start + .milliseconds(999))?.committedUSD == 1.5)
        #expect(slice.cachedRefusal(now: Self.start + .seconds(1)) == nil)
        slice.receive(Self.grant(0.5), now: Self.start, refusalHold: .seconds(1))
        #expect(slice.cachedRefusal(now: Self.start) == nil)
    }

    @Test func anIdleBudgetSliceIsGivenBackWholeDebtsIncluded() {
        var slice = LeasedBudget(windowStart: Self.november, now: Self.start)
        slice.receive(Self.grant(0.5), now: Self.start, refusalHold: .seconds(1))
        #expect(slice.takeIdle(now: Self.start + .milliseconds(999), idleAfter: .seconds(1)) == nil)
        #expect(slice.takeIdle(now: Self.start + .seconds(1), idleAfter: .seconds(1)) == 0.5)
        #expect(slice.balanceUSD == 0)
        #expect(slice.takeIdle(now: Self.start + .seconds(5), idleAfter: .seconds(1)) == nil)
        // A debt (a request that cost more than it reserved) is charged the same way.
        slice.admit(0.25, now: Self.start + .seconds(5))
        slice.settle(reservationUSD: 0.25, costUSD: 0.5, window: Self.november, now: Self.start + .seconds(6))
        #expect(slice.takeIdle(now: Self.start + .milliseconds(6_500), idleAfter: .seconds(1)) == nil)
        #expect(slice.takeIdle(now: Self.start + .seconds(7), idleAfter: .seconds(1)) == -0.5)
        // At shutdown, everything, idle or not.
        slice.restore(0.125)
        #expect(slice.takeIdle(now: Self.start + .seconds(7), idleAfter: nil) == 0.125)
    }

    @Test func aTokenSliceAdmitsWhatItCoversAndAsksForTheRestWithItsDebt() {
        var slice = LeasedTokens(perMinute: 1000, now: Self.start)
        #expect(!slice.covers(1))
        #expect(slice.needed(for: 100) == 100)
        slice.receive(TokenLeaseRule.Grant(granted: 120, retryAfter: nil), now: Self.start)
        #expect(slice.covers(120))
        #expect(!slice.covers(121))
        slice.admit(100, now: Self.start)
        #expect(slice.balance == 20)
        // The request used 300 tokens, not 100: the slice owes 180, and the next ask pays it.
        slice.settle(by: 200, now: Self.start)
        #expect(slice.balance == -180)
        #expect(!slice.covers(0))
        #expect(slice.needed(for: 100) == 280)
        // One that used fewer than estimated leaves them in the slice for the next requests.
        slice.receive(TokenLeaseRule.Grant(granted: 300, retryAfter: nil), now: Self.start)
        slice.admit(100, now: Self.start)
        slice.settle(by: -90, now: Self.start)
        #expect(slice.balance == 110)
        #expect(slice.covers(100))
    }

    @Test func aTokenRefusalIsRememberedForItsRetryAfter() {
        var slice = LeasedTokens(perMinute: 30, now: Self.start)
        slice.receive(TokenLeaseRule.Grant(granted: 0, retryAfter: .seconds(2)), now: Self.start)
        #expect(slice.cachedRefusal(now: Self.start) == .seconds(2))
        #expect(slice.cachedRefusal(now: Self.start + .milliseconds(500)) == .milliseconds(1_500))
        #expect(slice.cachedRefusal(now: Self.start + .seconds(2)) == nil)
        slice.receive(TokenLeaseRule.Grant(granted: 1, retryAfter: nil), now: Self.start)
        #expect(slice.cachedRefusal(now: Self.start) == nil)
        #expect(slice.balance == 1)
    }

    @Test func anIdleTokenSliceIsGivenBack() {
        var slice = LeasedTokens(perMinute: 300, now: Self.start)
        slice.receive(TokenLeaseRule.Grant(granted: 7, retryAfter: nil), now: Self.start)
        slice.admit(1, now: Self.start + .milliseconds(500))
        #expect(slice.takeIdle(now: Self.start + .seconds(1), idleAfter: .seconds(1)) == nil)
        #expect(slice.takeIdle(now: Self.start + .milliseconds(1_500), idleAfter: .seconds(1)) == 6)
        #expect(slice.balance == 0)
        #expect(slice.takeIdle(now: Self.start + .seconds(9), idleAfter: .seconds(1)) == nil)
    }
}
