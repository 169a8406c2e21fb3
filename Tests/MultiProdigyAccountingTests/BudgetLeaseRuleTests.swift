import Testing

@testable import MultiProdigyAccounting

@Suite struct BudgetLeaseRuleTests {
    /// One ask of a row, and what the rule must answer.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var committed: Double
        var overdrawn: Bool
        var amount: Double
        var need: Double
        var granted: Double
        var overdraft: Bool
        var refused: Bool
        var committedAfter: Double
        var overdrawnAfter: Bool

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "a fresh row grants the need and 5 % of the rest",
            committed: 0,
            overdrawn: false,
            amount: 10,
            need: 1,
            granted: 1.45,
            overdraft: false,
            refused: false,
            committedAfter: 1.45,
            overdrawnAfter: false
        ),
        Case(
            name: "the extra shrinks as the budget runs out",
            committed: 8,
            overdrawn: false,
            amount: 10,
            need: 1,
            granted: 1.05,
            overdraft: false,
            refused: false,
            committedAfter: 9.05,
            overdrawnAfter: false
        ),
        Case(
            name: "a need equal to what is left is granted exactly, not as an overdraft",
            committed: 9,
            overdrawn: false,
            amount: 10,
            need: 1,
            granted: 1,
            overdraft: false,
            refused: false,
            committedAfter: 10,
            overdrawnAfter: false
        ),
        Case(
            name: "less left than needed is granted once, as the overdraft",
            committed: 9.5,
            overdrawn: false,
            amount: 10,
            need: 1,
            granted: 0.5,
            overdraft: true,
            refused: false,
            committedAfter: 10,
            overdrawnAfter: true
        ),
        Case(
            name: "less left than needed after the overdraft is refused",
            committed: 9.5,
            overdrawn: true,
            amount: 10,
            need: 1,
            granted: 0,
            overdraft: false,
            refused: true,
            committedAfter: 9.5,
            overdrawnAfter: true
        ),
        Case(
            name: "after the overdraft, enough given back is granted as usual",
            committed: 8,
            overdrawn: true,
            amount: 10,
            need: 1,
            granted: 1.05,
            overdraft: false,
            refused: false,
            committedAfter: 9.05,
            overdrawnAfter: true
        ),
        Case(
            name: "nothing left: no overdraft of nothing",
            committed: 10,
            overdrawn: false,
            amount: 10,
            need: 1,
            granted: 0,
            overdraft: false,
            refused: true,
            committedAfter: 10,
            overdrawnAfter: false
        ),
        Case(
            name: "committed beyond the amount (a charged debt) is refused",
            committed: 10.3,
            overdrawn: true,
            amount: 10,
            need: 0.1,
            granted: 0,
            overdraft: false,
            refused: true,
            committedAfter: 10.3,
            overdrawnAfter: true
        ),
        Case(
            name: "a request reserving nothing gets only the extra while something is left",
            committed: 5,
            overdrawn: false,
            amount: 10,
            need: 0,
            granted: 0.25,
            overdraft: false,
            refused: false,
            committedAfter: 5.25,
            overdrawnAfter: false
        ),
        Case(
            name: "a request reserving nothing is refused by a spent budget",
            committed: 10,
            overdrawn: false,
            amount: 10,
            need: 0,
            granted: 0,
            overdraft: false,
            refused: true,
            committedAfter: 10,
            overdrawnAfter: false
        ),
        Case(
            name: "a negative need counts as none",
            committed: 0,
            overdrawn: false,
            amount: 1,
            need: -0.5,
            granted: 0.05,
            overdraft: false,
            refused: false,
            committedAfter: 0.05,
            overdrawnAfter: false
        ),
        Case(
            name: "a budget the size of one request is leased request by request",
            committed: 0,
            overdrawn: false,
            amount: 0.1,
            need: 0.1,
            granted: 0.1,
            overdraft: false,
            refused: false,
            committedAfter: 0.1,
            overdrawnAfter: false
        ),
    ]

    @Test(arguments: cases) func grantsByTheRule(_ testCase: Case) {
        let (row, grant) = BudgetLeaseRule.grant(
            BudgetLeaseRule.Request(amountUSD: testCase.amount, needUSD: testCase.need),
            from: BudgetLeaseRule.Row(committedUSD: testCase.committed, overdrawn: testCase.overdrawn)
        )
        #expect(abs(grant.grantedUSD - testCase.granted) < 1e-12)
        #expect(grant.overdraft == testCase.overdraft)
        #expect(grant.refused == testCase.refused)
        #expect(abs(row.committedUSD - testCase.committedAfter) < 1e-12)
        #expect(abs(grant.committedUSD - testCase.committedAfter) < 1e-12)
        #expect(row.overdrawn == testCase.overdrawnAfter)
    }

    @Test func givingBackLowersCommittedAndChargingADebtRaisesItButTheOverdraftStaysTaken() {
        let row = BudgetLeaseRule.Row(committedUSD: 10, overdrawn: true)
        #expect(BudgetLeaseRule.giveBack(0.75, to: row) == BudgetLeaseRule.Row(committedUSD: 9.25, overdrawn: true))
        #expect(BudgetLeaseRule.giveBack(-0.5, to: row) == BudgetLeaseRule.Row(committedUSD: 10.5, overdrawn: true))
    }

    /// Three replicas ask in turn for a request reserving 0.3 each against $1: the grants never take
    /// committed past the amount, the one overdraft covers the request that found too little, and
    /// every later ask is refused, however many replicas ask.
    @Test func aWindowOverdrawsOnceWhateverTheNumberOfReplicas() {
        var row = BudgetLeaseRule.Row(committedUSD: 0, overdrawn: false)
        var balances = [0.0, 0.0, 0.0]
        var admitted = 0
        var refusals = 0
        for turn in 0..<30 {
            let replica = turn % 3
            if balances[replica] >= 0.3 {
                balances[replica] -= 0.3
                admitted += 1
                continue
            }
            let (next, grant) = BudgetLeaseRule.grant(.init(amountUSD: 1, needUSD: 0.3 - balances[replica]), from: row)
            row = next
            #expect(row.committedUSD <= 1 + 1e-12)
            if grant.refused {
                refusals += 1
                continue
            }
            balances[replica] += grant.grantedUSD
            if balances[replica] >= 0.3 - 1e-12 || grant.overdraft {
                balances[replica] -= 0.3
                admitted += 1
            }
        }
        // $1 covers 3 requests of 0.3 and the overdraft a 4th: one reservation beyond, not three.
        #expect(admitted == 4)
        #expect(row.overdrawn)
        #expect(abs(row.committedUSD - 1) < 1e-12)
        #expect(refusals > 0)
    }
}
