import Foundation

extension UsageLedger {
    /// Usage since `since`, one row per group, dearest first (then busiest, then by name).
    ///
    /// Reads committed rows: call ``flush()`` first to include what this ledger has just recorded.
    public func summary(since: Date, by grouping: UsageGrouping) async throws -> [UsageSummaryRow] {
        try await database.usageSummary(since: since, groupColumn: grouping.column)
    }

    /// Usage since `since`, all rows together (its ``UsageSummaryRow/group`` is nil).
    public func total(since: Date) async throws -> UsageSummaryRow {
        try await database.usageSummary(since: since, groupColumn: "NULL").first ?? .nothing
    }

    /// The rows `query` selects, newest first (committed rows: see ``summary(since:by:)``).
    public func rows(_ query: LedgerQuery) async throws -> [LedgerRow] {
        try await database.run("usage") { engine in try await engine.ledgerRows(query) }
    }

    /// What the rows `query` selects add up to, its limit aside.
    public func totals(_ query: LedgerQuery) async throws -> LedgerTotals {
        try await database.run("usage") { engine in try await engine.ledgerTotals(query) }
    }

    /// Cost in USD per key name since `since`; requests without a key are left out.
    public func spend(since: Date) async throws -> [String: Double] {
        try await database.run("usage") { engine in try await engine.spendByKey(since: since) }
    }

    /// Cost in USD of the key named `keyName` since `since`.
    public func spend(keyName: String, since: Date) async throws -> Double {
        try await database.run("usage") { engine in try await engine.spend(keyName: keyName, since: since) }
    }
}

extension GatewayDatabase {
    /// The usage summary since `since`; `groupColumn` is a ``UsageGrouping`` column or `NULL`, never user input.
    func usageSummary(since: Date, groupColumn: String) async throws -> [UsageSummaryRow] {
        try await run("usage") { engine in try await engine.usageSummary(since: since, groupColumn: groupColumn) }
    }
}
