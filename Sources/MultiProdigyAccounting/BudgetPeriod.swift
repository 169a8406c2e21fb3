import Foundation
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy

/// The calendar period a key's budget applies to, in UTC.
public enum BudgetPeriod: String, Sendable, Equatable, CaseIterable {
    /// From 00:00 UTC.
    case day
    /// From Monday 00:00 UTC.
    case week
    /// From the 1st of the month, 00:00 UTC.
    case month
    /// The key's whole life: the budget never resets.
    case total

    /// The start of the period that contains `date`; `Date.distantPast` for ``total``.
    ///
    /// ```swift
    /// BudgetPeriod.week.start(containing: thursday)  // the Monday before, 00:00 UTC
    /// ```
    public func start(containing date: Date) -> Date {
        let calendar = Self.calendar
        switch self {
        case .day:
            return calendar.startOfDay(for: date)
        case .week:
            return calendar.dateInterval(of: .weekOfYear, for: date)?.start ?? calendar.startOfDay(for: date)
        case .month:
            return calendar.date(from: calendar.dateComponents([.year, .month], from: date)) ?? calendar.startOfDay(for: date)
        case .total:
            return .distantPast
        }
    }

    /// When the period that contains `date` ends (the next one starts); nil for ``total``.
    public func end(containing date: Date) -> Date? {
        let start = start(containing: date)
        switch self {
        case .day: return Self.calendar.date(byAdding: .day, value: 1, to: start)
        case .week: return Self.calendar.date(byAdding: .day, value: 7, to: start)
        case .month: return Self.calendar.date(byAdding: .month, value: 1, to: start)
        case .total: return nil
        }
    }

    /// ISO 8601 weeks (Monday first) in UTC.
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
