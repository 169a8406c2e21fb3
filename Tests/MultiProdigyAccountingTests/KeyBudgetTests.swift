import Foundation
import Testing

@testable import MultiProdigyAccounting

/// Budget notation and the UTC calendar periods budgets reset on.
@Suite struct KeyBudgetTests {
    @Test(arguments: [
        ("50usd/month", 50.0, BudgetPeriod.month),
        ("0.5usd/day", 0.5, .day),
        ("10 USD/week", 10, .week),
        ("5usd/week", 5, .week),
        ("100usd", 100, .total),
        ("$20/month", 20, .month),
        ("7.25/daily", 7.25, .day),
        (" 3 usd / monthly ", 3, .month),
        ("1usd/total", 1, .total),
    ])
    func budgetsParse(text: String, amount: Double, period: BudgetPeriod) throws {
        let budget = try KeyBudget(parsing: text)
        #expect(budget == KeyBudget(amountUSD: amount, period: period))
        #expect(try KeyBudget(parsing: budget.description) == budget)
    }

    @Test(arguments: [
        ("50eur/month", "is not an amount in USD"),
        ("usd/month", "is not an amount in USD"),
        ("0usd/day", "is not an amount in USD"),
        ("-5usd", "is not an amount in USD"),
        ("1e3usd", "is not an amount in USD"),
        ("nanusd", "is not an amount in USD"),
        ("", "is not an amount in USD"),
        ("50usd/year", "'year' is not a period"),
        ("50usd/", "'' is not a period"),
    ])
    func badBudgetsSayHowToWriteOne(text: String, problem: String) {
        let error = #expect(throws: KeyStoreError.self) { try KeyBudget(parsing: text) }
        #expect(error?.message.contains(problem) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("Fix:") == true)
    }

    @Test func descriptionsReadBack() {
        #expect(KeyBudget(amountUSD: 50, period: .month).description == "50usd/month")
        #expect(KeyBudget(amountUSD: 0.5, period: .day).description == "0.5usd/day")
        #expect(KeyBudget(amountUSD: 100, period: .total).description == "100usd")
    }

    /// 2025-06-12 15:30:45 UTC, a Thursday.
    static let thursday = Date(timeIntervalSince1970: 1_749_742_245)

    @Test func periodsStartOnUTCBoundaries() {
        #expect(BudgetPeriod.day.start(containing: Self.thursday) == Date(timeIntervalSince1970: 1_749_686_400))  // 06-12 00:00
        #expect(BudgetPeriod.week.start(containing: Self.thursday) == Date(timeIntervalSince1970: 1_749_427_200))  // Mon 06-09
        #expect(BudgetPeriod.month.start(containing: Self.thursday) == Date(timeIntervalSince1970: 1_748_736_000))  // 06-01
        #expect(BudgetPeriod.total.start(containing: Self.thursday) == .distantPast)
        #expect(BudgetPeriod.day.end(containing: Self.thursday) == Date(timeIntervalSince1970: 1_749_772_800))
        #expect(BudgetPeriod.week.end(containing: Self.thursday) == Date(timeIntervalSince1970: 1_750_032_000))  // Mon 06-16
        #expect(BudgetPeriod.month.end(containing: Self.thursday) == Date(timeIntervalSince1970: 1_751_328_000))  // 07-01
        #expect(BudgetPeriod.total.end(containing: Self.thursday) == nil)
    }

    @Test func periodBoundariesBelongToTheNewPeriod() {
        let mondayMidnight = Date(timeIntervalSince1970: 1_749_427_200)  // 2025-06-09 00:00 UTC
        #expect(BudgetPeriod.week.start(containing: mondayMidnight) == mondayMidnight)
        #expect(BudgetPeriod.week.start(containing: mondayMidnight.addingTimeInterval(-1)) == Date(timeIntervalSince1970: 1_748_822_400))
        let sunday = Date(timeIntervalSince1970: 1_749_340_800 + 3_600)  // 2025-06-08 01:00 UTC
        #expect(BudgetPeriod.week.start(containing: sunday) == Date(timeIntervalSince1970: 1_748_822_400))  // Mon 06-02
        let january1 = Date(timeIntervalSince1970: 1_735_689_600)  // 2025-01-01 00:00 UTC
        let december1 = Date(timeIntervalSince1970: 1_733_011_200)  // 2024-12-01 00:00 UTC
        #expect(BudgetPeriod.month.start(containing: january1.addingTimeInterval(-1)) == december1)
        #expect(BudgetPeriod.day.start(containing: january1.addingTimeInterval(-1)) == Date(timeIntervalSince1970: 1_735_603_200))
    }
}
