import Foundation
import GRDB

extension SQLiteEngine {
    /// The rows `query` selects, newest first.
    func ledgerRows(_ query: LedgerQuery) async throws -> [LedgerRow] {
        let (conditions, values) = query.conditions { _ in "?" }
        let arguments = Self.arguments(values + [.integer(Int64(query.limit))])
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, time, request_id, key_name, endpoint, route, provider, model, prompt_tokens,
                        completion_tokens, cost_usd, latency_seconds, ttft_seconds, status, attempts, path
                    FROM usage \(conditions) \(query.order) LIMIT ?
                    """,
                arguments: arguments
            )
            .map { row in
                LedgerRow(
                    id: row[0],
                    record: UsageRecord(
                        time: Date(timeIntervalSince1970: row[1]),
                        requestID: row[2],
                        keyName: row[3],
                        endpoint: row[4],
                        route: row[5],
                        provider: row[6],
                        model: row[7],
                        promptTokens: row[8],
                        completionTokens: row[9],
                        costUSD: row[10],
                        latencySeconds: row[11],
                        timeToFirstTokenSeconds: row[12],
                        status: row[13],
                        attempts: row[14],
                        path: (row[15] as String?).flatMap(UsageRecord.path(fromText:))
                    )
                )
            }
        }
    }

    /// What the rows `query` selects add up to, its limit aside.
    func ledgerTotals(_ query: LedgerQuery) async throws -> LedgerTotals {
        let (conditions, values) = query.conditions { _ in "?" }
        let arguments = Self.arguments(values)
        return try await pool.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*), TOTAL(status >= 400), TOTAL(prompt_tokens), TOTAL(completion_tokens), TOTAL(cost_usd)
                    FROM usage \(conditions)
                    """,
                arguments: arguments
            )
            guard let row else { return LedgerTotals(requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUSD: 0) }
            return LedgerTotals(
                requests: row[0],
                errors: Int(row[1] as Double),
                promptTokens: Int(row[2] as Double),
                completionTokens: Int(row[3] as Double),
                costUSD: row[4]
            )
        }
    }

    private static func arguments(_ values: [LedgerQueryValue]) -> StatementArguments {
        StatementArguments(
            values.map { value -> any DatabaseValueConvertible in
                switch value {
                case .text(let text): text
                case .integer(let integer): integer
                case .double(let double): double
                }
            }
        )
    }
}
