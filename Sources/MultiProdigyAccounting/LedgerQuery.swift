import Foundation

/// Which usage ledger rows to read: a window, equality filters on the ledger's columns, a status class, and a page
/// (rows committed before a row id), newest first.
public struct LedgerQuery: Sendable, Equatable {
    /// Which statuses a row may have.
    public enum StatusFilter: Sendable, Equatable {
        /// Below 400.
        case succeeded
        /// 400 and up.
        case failed
        /// This status exactly.
        case exactly(Int)
    }

    /// Rows from this time on; nil: any time.
    public var since: Date?
    /// Rows with a smaller id only (the next page after a row); nil: from the newest.
    public var beforeID: Int64?
    /// The `route` column equals this.
    public var route: String?
    /// The `model` column equals this (``missing``: is null).
    public var model: String?
    /// The `provider` column equals this (``missing``: is null).
    public var provider: String?
    /// The `key_name` column equals this (``noKey``: is null).
    public var keyName: String?
    /// The `endpoint` column (the API) equals this.
    public var endpoint: String?
    /// The `status` column is in this class.
    public var status: StatusFilter?
    /// The most rows read.
    public var limit: Int
    /// Rows by time, newest first (with ``since``, the `time` index bounds the read); else by id, the order
    /// they were committed in, newest first, which ``beforeID`` pages through.
    public var newestByTime = false

    /// The filter value of ``model`` and ``provider`` that selects rows without one (a request that reached no target).
    public static let missing = "-"
    /// The filter value of ``keyName`` that selects rows without a key (an open gateway's).
    public static let noKey = "none"

    /// A query for at most `limit` rows, newest first, with no filter.
    public init(since: Date? = nil, limit: Int) {
        self.since = since
        self.limit = limit
    }

    /// The `ORDER BY` clause of the rows.
    var order: String {
        newestByTime ? "ORDER BY time DESC, id DESC" : "ORDER BY id DESC"
    }

    /// The conditions as SQL over the `usage` table, each value in its place marked by `placeholder(n)` (n from 1),
    /// and the values in order. Column names are fixed here: nothing from a client reaches the SQL text.
    func conditions(placeholder: (Int) -> String) -> (sql: String, values: [LedgerQueryValue]) {
        var clauses: [String] = []
        var values: [LedgerQueryValue] = []
        func add(_ column: String, _ comparison: String, _ value: LedgerQueryValue) {
            values.append(value)
            clauses.append("\(column) \(comparison) \(placeholder(values.count))")
        }
        if let since { add("time", ">=", .double(since.timeIntervalSince1970)) }
        if let beforeID { add("id", "<", .integer(beforeID)) }
        if let route { add("route", "=", .text(route)) }
        if let model {
            if model == Self.missing { clauses.append("model IS NULL") } else { add("model", "=", .text(model)) }
        }
        if let provider {
            if provider == Self.missing { clauses.append("provider IS NULL") } else { add("provider", "=", .text(provider)) }
        }
        if let keyName {
            if keyName == Self.noKey { clauses.append("key_name IS NULL") } else { add("key_name", "=", .text(keyName)) }
        }
        if let endpoint { add("endpoint", "=", .text(endpoint)) }
        switch status {
        case .succeeded: clauses.append("status < 400")
        case .failed: clauses.append("status >= 400")
        case .exactly(let code): add("status", "=", .integer(Int64(code)))
        case nil: break
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), values)
    }
}
