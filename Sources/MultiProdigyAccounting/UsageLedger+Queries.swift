import Foundation
import GRDB

extension UsageLedger {
    /// Usage since `since`, one row per group, dearest first (then busiest, then by name).
    ///
    /// Reads committed rows: call ``flush()`` first to include what this ledger has just recorded.
    public func summary(since: Date, by grouping: UsageGrouping) throws -> [UsageSummaryRow] {
        try Self.summary(in: database, since: since, groupColumn: grouping.column)
    }

    /// Usage since `since`, all rows together (its ``UsageSummaryRow/group`` is nil).
    public func total(since: Date) throws -> UsageSummaryRow {
        let rows = try Self.summary(in: database, since: since, groupColumn: "NULL")
        return rows.first ?? .nothing
    }

    /// Cost in USD per key name since `since`; requests without a key are left out.
    ///
    /// Budgets are rebuilt from this when the gateway starts.
    public func spend(since: Date) throws -> [String: Double] {
        try database.pool.read { db in
            var spend: [String: Double] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT key_name, SUM(cost_usd) FROM usage WHERE time >= ? AND key_name IS NOT NULL GROUP BY key_name",
                arguments: [since.timeIntervalSince1970]
            )
            while let row = try rows.next() {
                spend[row[0]] = row[1]
            }
            return spend
        }
    }

    /// Cost in USD of the key named `keyName` since `since`.
    public func spend(keyName: String, since: Date) throws -> Double {
        try database.pool.read { db in
            try Double.fetchOne(
                db,
                sql: "SELECT TOTAL(cost_usd) FROM usage WHERE key_name = ? AND time >= ?",
                arguments: [keyName, since.timeIntervalSince1970]
            ) ?? 0
        }
    }

    /// The summary query; `groupColumn` is a column of ``UsageGrouping`` or `NULL`, never user input.
    static func summary(in database: GatewayDatabase, since: Date, groupColumn: String) throws -> [UsageSummaryRow] {
        try database.pool.read { db in
            let arguments: StatementArguments = [since.timeIntervalSince1970]
            // The nearest-rank median: the ((n + 1) / 2)-th latency of each group, in order.
            var medians: [String?: Double] = [:]
            let ranked = try Row.fetchCursor(
                db,
                sql: """
                    SELECT grp, latency_seconds FROM (
                        SELECT \(groupColumn) AS grp, latency_seconds,
                            ROW_NUMBER() OVER (PARTITION BY \(groupColumn) ORDER BY latency_seconds) AS position,
                            COUNT(*) OVER (PARTITION BY \(groupColumn)) AS size
                        FROM usage WHERE time >= ?
                    ) WHERE position = (size + 1) / 2
                    """,
                arguments: arguments
            )
            while let row = try ranked.next() {
                medians[row[0] as String?] = row[1]
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT \(groupColumn) AS grp, COUNT(*), TOTAL(status >= 400), TOTAL(prompt_tokens), TOTAL(completion_tokens),
                        TOTAL(cost_usd), AVG(latency_seconds), MAX(latency_seconds)
                    FROM usage WHERE time >= ?
                    GROUP BY grp ORDER BY TOTAL(cost_usd) DESC, COUNT(*) DESC, grp
                    """,
                arguments: arguments
            )
            .map { row in
                let group: String? = row[0]
                return UsageSummaryRow(
                    group: group,
                    requests: row[1],
                    errors: Int(row[2] as Double),
                    promptTokens: Int(row[3] as Double),
                    completionTokens: Int(row[4] as Double),
                    costUSD: row[5],
                    meanLatencySeconds: row[6],
                    medianLatencySeconds: medians[group] ?? 0,
                    maxLatencySeconds: row[7]
                )
            }
        }
    }
}
