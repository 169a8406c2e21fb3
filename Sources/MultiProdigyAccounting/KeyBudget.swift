import Foundation
import MultiProdigyConfig
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

/// How much a virtual key may spend, in USD, per calendar period.
///
/// Written `50usd/month`, `0.5usd/day`, `10 USD/week`, `$5/week`, or `100usd` for a total that never resets.
public struct KeyBudget: Sendable, Equatable, CustomStringConvertible {
    /// The amount, in USD.
    public var amountUSD: Double
    /// The period the amount applies to.
    public var period: BudgetPeriod

    /// Creates a budget.
    public init(amountUSD: Double, period: BudgetPeriod) {
        self.amountUSD = amountUSD
        self.period = period
    }

    /// Parses `50usd/month`, `0.5usd/day`, `10 USD/week`, `$5/week`, `100usd` (a total).
    ///
    /// - Throws: ``KeyStoreError`` saying what was not understood and how to write it.
    public init(parsing text: String) throws(KeyStoreError) {
        let compact = text.lowercased().filter { !$0.isWhitespace }
        var amountText = Substring(compact)
        var period = BudgetPeriod.total
        if let slash = amountText.firstIndex(of: "/") {
            let periodText = amountText[amountText.index(after: slash)...]
            guard let parsed = Self.periods[String(periodText)] else {
                throw KeyStoreError(
                    "budget '\(text)': '\(periodText)' is not a period. Fix: use day, week or month (such as 50usd/month), or no period for a total"
                )
            }
            period = parsed
            amountText = amountText[..<slash]
        }
        if amountText.hasPrefix("$") { amountText = amountText.dropFirst() }
        if amountText.hasSuffix("usd") { amountText = amountText.dropLast(3) }
        guard let amount = Double(amountText), amount.isFinite, amount > 0, amountText.allSatisfy({ $0.isNumber || $0 == "." }) else {
            throw KeyStoreError(
                "budget '\(text)' is not an amount in USD. Fix: write a positive amount with an optional period, "
                    + "such as 50usd/month, 0.5usd/day, 5usd/week, or 100usd for a total"
            )
        }
        self.init(amountUSD: amount, period: period)
    }

    /// `50usd/month`, or `100usd` for a total; reads back with ``init(parsing:)``.
    public var description: String {
        let amount = CostFormatting.usd(amountUSD) + "usd"
        return period == .total ? amount : "\(amount)/\(period.rawValue)"
    }

    private static let periods: [String: BudgetPeriod] = [
        "day": .day, "daily": .day, "d": .day,
        "week": .week, "weekly": .week, "w": .week,
        "month": .month, "monthly": .month, "mo": .month,
        "total": .total,
    ]
}
