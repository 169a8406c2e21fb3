import Testing

@testable import MultiProdigyAccounting

@Suite struct TokenLeaseRuleTests {
    /// One take from a bucket row, and what the rule must answer.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var perMinute: Int
        var balance: Double
        var refilledAt: Double
        var now: Double
        var needed: Double
        var extra: Double
        var whole: Bool
        var granted: Double
        var retryAfter: Duration?
        var balanceAfter: Double
        var refilledAtAfter: Double

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "a full bucket grants the need and the extra",
            perMinute: 60,
            balance: 60,
            refilledAt: 100,
            now: 100,
            needed: 1,
            extra: 1,
            whole: true,
            granted: 2,
            retryAfter: nil,
            balanceAfter: 58,
            refilledAtAfter: 100
        ),
        Case(
            name: "the extra is capped by what the bucket holds beyond the need, in whole units for whole takes",
            perMinute: 60,
            balance: 1.5,
            refilledAt: 100,
            now: 100,
            needed: 1,
            extra: 5,
            whole: true,
            granted: 1,
            retryAfter: nil,
            balanceAfter: 0.5,
            refilledAtAfter: 100
        ),
        Case(
            name: "a whole take keeps the fraction beyond whole units in the bucket",
            perMinute: 60,
            balance: 3.75,
            refilledAt: 100,
            now: 100,
            needed: 1,
            extra: 5,
            whole: true,
            granted: 3,
            retryAfter: nil,
            balanceAfter: 0.75,
            refilledAtAfter: 100
        ),
        Case(
            name: "a whole take needs the whole unit: refused with the time until it refills",
            perMinute: 60,
            balance: 0.5,
            refilledAt: 100,
            now: 100,
            needed: 1,
            extra: 1,
            whole: true,
            granted: 0,
            retryAfter: .milliseconds(500),
            balanceAfter: 0.5,
            refilledAtAfter: 100
        ),
        Case(
            name: "the bucket refills continuously to now before the take",
            perMinute: 60,
            balance: 0,
            refilledAt: 100,
            now: 110,
            needed: 1,
            extra: 1,
            whole: true,
            granted: 2,
            retryAfter: nil,
            balanceAfter: 8,
            refilledAtAfter: 110
        ),
        Case(
            name: "a refused take still records the refill",
            perMinute: 60,
            balance: -2,
            refilledAt: 100,
            now: 102,
            needed: 1,
            extra: 0,
            whole: true,
            granted: 0,
            retryAfter: .seconds(1),
            balanceAfter: 0,
            refilledAtAfter: 102
        ),
        Case(
            name: "the bucket never saves more than a minute",
            perMinute: 60,
            balance: 0,
            refilledAt: 100,
            now: 10_000,
            needed: 1,
            extra: 0,
            whole: true,
            granted: 1,
            retryAfter: nil,
            balanceAfter: 59,
            refilledAtAfter: 10_000
        ),
        Case(
            name: "a clock that stepped back refills nothing",
            perMinute: 60,
            balance: 10,
            refilledAt: 100,
            now: 90,
            needed: 1,
            extra: 0,
            whole: true,
            granted: 1,
            retryAfter: nil,
            balanceAfter: 9,
            refilledAtAfter: 100
        ),
        Case(
            name: "a partial take is let in on any positive balance and may push it below zero",
            perMinute: 600,
            balance: 5,
            refilledAt: 100,
            now: 100,
            needed: 100,
            extra: 12,
            whole: false,
            granted: 100,
            retryAfter: nil,
            balanceAfter: -95,
            refilledAtAfter: 100
        ),
        Case(
            name: "a partial take's extra is not rounded",
            perMinute: 600,
            balance: 50.5,
            refilledAt: 100,
            now: 100,
            needed: 20,
            extra: 12,
            whole: false,
            granted: 32,
            retryAfter: nil,
            balanceAfter: 18.5,
            refilledAtAfter: 100
        ),
        Case(
            name: "a partial take waits until the balance is back above zero (to one unit, as a bucket says)",
            perMinute: 480,
            balance: -95,
            refilledAt: 100,
            now: 100,
            needed: 10,
            extra: 12,
            whole: false,
            granted: 0,
            retryAfter: .seconds(12),
            balanceAfter: -95,
            refilledAtAfter: 100
        ),
        Case(
            name: "a partial take on an empty bucket is refused",
            perMinute: 480,
            balance: 0,
            refilledAt: 100,
            now: 100,
            needed: 10,
            extra: 0,
            whole: false,
            granted: 0,
            retryAfter: .milliseconds(125),
            balanceAfter: 0,
            refilledAtAfter: 100
        ),
        Case(
            name: "a whole take larger than the bucket (a debt) needs a full bucket and may push it below zero",
            perMinute: 2,
            balance: 2,
            refilledAt: 100,
            now: 100,
            needed: 3,
            extra: 0,
            whole: true,
            granted: 3,
            retryAfter: nil,
            balanceAfter: -1,
            refilledAtAfter: 100
        ),
        Case(
            name: "a take that needs nothing gets only the extra the bucket holds",
            perMinute: 600,
            balance: 7,
            refilledAt: 100,
            now: 100,
            needed: 0,
            extra: 12,
            whole: false,
            granted: 7,
            retryAfter: nil,
            balanceAfter: 0,
            refilledAtAfter: 100
        ),
    ]

    @Test(arguments: cases) func takesByTheRule(_ testCase: Case) {
        let (row, grant) = TokenLeaseRule.take(
            TokenLeaseRule.Request(perMinute: testCase.perMinute, needed: testCase.needed, extra: testCase.extra, whole: testCase.whole),
            from: TokenLeaseRule.Row(balance: testCase.balance, refilledAt: testCase.refilledAt),
            now: testCase.now
        )
        #expect(grant == TokenLeaseRule.Grant(granted: testCase.granted, retryAfter: testCase.retryAfter))
        #expect(row == TokenLeaseRule.Row(balance: testCase.balanceAfter, refilledAt: testCase.refilledAtAfter))
    }

    @Test func theChunkIsTwoPercentOfTheLimitInWholeUnits() {
        #expect(TokenLeaseRule.chunk(perMinute: 30) == 0)
        #expect(TokenLeaseRule.chunk(perMinute: 300) == 6)
        #expect(TokenLeaseRule.chunk(perMinute: 100_000) == 2_000)
        #expect(TokenLeaseRule.fullRow(perMinute: 0, now: 5) == TokenLeaseRule.Row(balance: 1, refilledAt: 5))
    }

    @Test func givingBackRefillsFirstAndNeverOverfills() {
        let row = TokenLeaseRule.Row(balance: 10, refilledAt: 100)
        #expect(TokenLeaseRule.giveBack(5, perMinute: 60, to: row, now: 102) == TokenLeaseRule.Row(balance: 17, refilledAt: 102))
        #expect(TokenLeaseRule.giveBack(500, perMinute: 60, to: row, now: 100) == TokenLeaseRule.Row(balance: 60, refilledAt: 100))
        // A replica's debt is charged.
        #expect(TokenLeaseRule.giveBack(-30, perMinute: 60, to: row, now: 100) == TokenLeaseRule.Row(balance: -20, refilledAt: 100))
    }

    /// A scenario played on one ``TokenBucket`` and on the shared row: takes of `amount` every
    /// `step` seconds until refused.
    struct Scenario: Sendable, CustomTestStringConvertible {
        var perMinute: Int
        var amount: Double
        var whole: Bool
        var step: Double

        var testDescription: String { "\(perMinute)/min, takes of \(amount) (\(whole ? "whole" : "partial")) every \(step) s" }
    }

    static let scenarios: [Scenario] = [
        Scenario(perMinute: 30, amount: 1, whole: true, step: 0),
        Scenario(perMinute: 30, amount: 1, whole: true, step: 0.25),
        Scenario(perMinute: 3, amount: 1, whole: true, step: 0.5),
        Scenario(perMinute: 1000, amount: 600, whole: false, step: 0),
        Scenario(perMinute: 1000, amount: 130, whole: false, step: 0.125),
        Scenario(perMinute: 7, amount: 2, whole: true, step: 1.5),
    ]

    /// The refusal a replica passes on is what a single bucket would have said: the same takes are
    /// let in, and the first refused gets the same `Retry-After`.
    @Test(arguments: scenarios) func refusesWithTheRetryAfterOfASingleBucket(_ scenario: Scenario) throws {
        let start = ContinuousClock.now
        let origin = 1_000_000.0
        var bucket = TokenBucket(perMinute: scenario.perMinute, now: start)
        var row = TokenLeaseRule.fullRow(perMinute: scenario.perMinute, now: origin)
        var bucketWait: Duration?
        var ruleWait: Duration?
        var takes = 0
        for index in 0..<1_000 where bucketWait == nil {
            let elapsed = Double(index) * scenario.step
            bucketWait = bucket.take(scenario.amount, whole: scenario.whole, now: start + .seconds(elapsed))
            let request = TokenLeaseRule.Request(perMinute: scenario.perMinute, needed: scenario.amount, extra: 0, whole: scenario.whole)
            let (next, grant) = TokenLeaseRule.take(request, from: row, now: origin + elapsed)
            row = next
            ruleWait = grant.retryAfter
            #expect((bucketWait == nil) == (ruleWait == nil), "take \(index)")
            if bucketWait == nil { takes += 1 }
        }
        #expect(takes > 0)
        #expect(try #require(ruleWait) == (try #require(bucketWait)))
    }
}
