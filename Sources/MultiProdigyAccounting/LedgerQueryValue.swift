/// A value bound into a ``LedgerQuery``'s SQL.
enum LedgerQueryValue: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case double(Double)
}
