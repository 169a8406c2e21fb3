import Foundation
import PostgresNIO

/// Replicas share their keys' budgets and rate limits through the `budget_leases` and
/// `rate_buckets` tables: each call locks one row (creating it when missing), applies the rule in
/// Swift and writes the row back, in one transaction. Rate buckets refill by the database's clock.
extension PostgresEngine: SharedLimitStore {
    func grantBudget(
        keyID: String,
        keyName: String,
        windowStart: Date,
        amountUSD: Double,
        needUSD: Double
    ) async throws -> BudgetLeaseRule.Grant {
        let start = windowStart.timeIntervalSince1970
        return try await bounded { [client] in
            try await Self.transaction(client) { connection in
                var row = try await Self.budgetRowIfAny(connection, keyID: keyID, start: start)
                if row == nil {
                    // A window's first lease starts from what the ledger says the key spent in it
                    // (summed once per window, not at every lease).
                    try await connection.query(
                        """
                        INSERT INTO budget_leases (key_id, period_start, committed_usd, overdrawn)
                        SELECT \(keyID), \(start), COALESCE(SUM(cost_usd), 0)::DOUBLE PRECISION, FALSE
                        FROM usage WHERE key_name = \(keyName) AND time >= \(start)
                        ON CONFLICT (key_id, period_start) DO NOTHING
                        """,
                        logger: Self.silent
                    )
                    row = try await Self.budgetRowIfAny(connection, keyID: keyID, start: start)
                }
                guard let row else { throw PostgresRowMissing(table: "budget_leases") }
                let (updated, grant) = BudgetLeaseRule.grant(.init(amountUSD: amountUSD, needUSD: needUSD), from: row)
                if updated != row { try await Self.write(updated, connection, keyID: keyID, start: start) }
                return grant
            }
        }
    }

    func returnBudget(keyID: String, windowStart: Date, amountUSD: Double) async throws {
        let start = windowStart.timeIntervalSince1970
        try await bounded { [client] in
            try await Self.transaction(client) { connection in
                guard let row = try await Self.budgetRowIfAny(connection, keyID: keyID, start: start) else { return }
                try await Self.write(BudgetLeaseRule.giveBack(amountUSD, to: row), connection, keyID: keyID, start: start)
            }
        }
    }

    func takeTokens(
        keyID: String,
        kind: RateLimitKind,
        perMinute: Int,
        needed: Double,
        extra: Double,
        whole: Bool
    ) async throws -> TokenLeaseRule.Grant {
        try await bounded { [client] in
            try await Self.transaction(client) { connection in
                let (row, now) = try await Self.bucketRow(connection, keyID: keyID, kind: kind, perMinute: perMinute)
                let request = TokenLeaseRule.Request(perMinute: perMinute, needed: needed, extra: extra, whole: whole)
                let (updated, grant) = TokenLeaseRule.take(request, from: row, now: now)
                if updated != row { try await Self.write(updated, connection, keyID: keyID, kind: kind) }
                return grant
            }
        }
    }

    func returnTokens(keyID: String, kind: RateLimitKind, perMinute: Int, amount: Double) async throws {
        try await bounded { [client] in
            try await Self.transaction(client) { connection in
                let (row, now) = try await Self.bucketRow(connection, keyID: keyID, kind: kind, perMinute: perMinute)
                try await Self.write(
                    TokenLeaseRule.giveBack(amount, perMinute: perMinute, to: row, now: now),
                    connection,
                    keyID: keyID,
                    kind: kind
                )
            }
        }
    }

    // MARK: Rows

    private static func budgetRowIfAny(_ connection: PostgresConnection, keyID: String, start: Double) async throws -> BudgetLeaseRule.Row?
    {
        for try await (committed, overdrawn) in try await connection.query(
            "SELECT committed_usd, overdrawn FROM budget_leases WHERE key_id = \(keyID) AND period_start = \(start) FOR UPDATE",
            logger: silent
        ).decode((Double, Bool).self) {
            return BudgetLeaseRule.Row(committedUSD: committed, overdrawn: overdrawn)
        }
        return nil
    }

    private static func write(_ row: BudgetLeaseRule.Row, _ connection: PostgresConnection, keyID: String, start: Double) async throws {
        try await connection.query(
            """
            UPDATE budget_leases SET committed_usd = \(row.committedUSD), overdrawn = \(row.overdrawn)
            WHERE key_id = \(keyID) AND period_start = \(start)
            """,
            logger: silent
        )
    }

    /// The bucket, locked, and the database's time; a missing bucket is created full.
    private static func bucketRow(
        _ connection: PostgresConnection,
        keyID: String,
        kind: RateLimitKind,
        perMinute: Int
    ) async throws -> (row: TokenLeaseRule.Row, now: Double) {
        let full = TokenLeaseRule.capacity(perMinute: perMinute)
        try await connection.query(
            """
            INSERT INTO rate_buckets (key_id, kind, balance, refilled_at)
            VALUES (\(keyID), \(kind.rawValue), \(full), extract(epoch FROM clock_timestamp())::DOUBLE PRECISION)
            ON CONFLICT (key_id, kind) DO NOTHING
            """,
            logger: silent
        )
        for try await (balance, refilledAt, now) in try await connection.query(
            """
            SELECT balance, refilled_at, extract(epoch FROM clock_timestamp())::DOUBLE PRECISION
            FROM rate_buckets WHERE key_id = \(keyID) AND kind = \(kind.rawValue) FOR UPDATE
            """,
            logger: silent
        ).decode((Double, Double, Double).self) {
            return (TokenLeaseRule.Row(balance: balance, refilledAt: refilledAt), now)
        }
        throw PostgresRowMissing(table: "rate_buckets")
    }

    private static func write(_ row: TokenLeaseRule.Row, _ connection: PostgresConnection, keyID: String, kind: RateLimitKind) async throws
    {
        try await connection.query(
            """
            UPDATE rate_buckets SET balance = \(row.balance), refilled_at = \(row.refilledAt)
            WHERE key_id = \(keyID) AND kind = \(kind.rawValue)
            """,
            logger: silent
        )
    }
}

/// A row the same transaction had just made sure of was not there (never expected).
struct PostgresRowMissing: Error, CustomStringConvertible {
    var table: String
    var description: String { "a row of \(table) vanished within its transaction" }
}
