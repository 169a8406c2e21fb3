import Foundation
import PostgresNIO

extension PostgresEngine {
    /// The rows `query` selects, newest first.
    func ledgerRows(_ query: LedgerQuery) async throws -> [LedgerRow] {
        let (conditions, values) = query.conditions { "$\($0)" }
        var binds = Self.bindings(values)
        binds.append(query.limit)
        let statement = PostgresQuery(
            unsafeSQL: """
                SELECT id, time, request_id, key_name, endpoint, route, provider, model, prompt_tokens::BIGINT,
                    completion_tokens::BIGINT, cost_usd, latency_seconds, ttft_seconds, status, attempts, path
                FROM usage \(conditions) \(query.order) LIMIT $\(values.count + 1)
                """,
            binds: binds
        )
        return try await bounded { [client] in
            var rows: [LedgerRow] = []
            let stream = try await client.query(statement, logger: Self.silent)
            for try await row in stream {
                let columns = try row.decode(
                    (
                        Int64, Double, String, String?, String, String, String?, String?, Int64, Int64, Double, Double,
                        Double?, Int32, Int32, String?
                    ).self
                )
                rows.append(
                    LedgerRow(
                        id: columns.0,
                        record: UsageRecord(
                            time: Date(timeIntervalSince1970: columns.1),
                            requestID: columns.2,
                            keyName: columns.3,
                            endpoint: columns.4,
                            route: columns.5,
                            provider: columns.6,
                            model: columns.7,
                            promptTokens: Int(columns.8),
                            completionTokens: Int(columns.9),
                            costUSD: columns.10,
                            latencySeconds: columns.11,
                            timeToFirstTokenSeconds: columns.12,
                            status: Int(columns.13),
                            attempts: Int(columns.14),
                            path: columns.15.flatMap(UsageRecord.path(fromText:))
                        )
                    )
                )
            }
            return rows
        }
    }

    /// What the rows `query` selects add up to, its limit aside.
    func ledgerTotals(_ query: LedgerQuery) async throws -> LedgerTotals {
        let (conditions, values) = query.conditions { "$\($0)" }
        let statement = PostgresQuery(
            unsafeSQL: """
                SELECT COUNT(*)::BIGINT, COUNT(*) FILTER (WHERE status >= 400)::BIGINT,
                    COALESCE(SUM(prompt_tokens), 0)::BIGINT, COALESCE(SUM(completion_tokens), 0)::BIGINT,
                    COALESCE(SUM(cost_usd), 0)::DOUBLE PRECISION
                FROM usage \(conditions)
                """,
            binds: Self.bindings(values)
        )
        return try await bounded { [client] in
            for try await (requests, errors, prompt, completion, cost) in try await client.query(statement, logger: Self.silent)
                .decode((Int64, Int64, Int64, Int64, Double).self)
            {
                return LedgerTotals(
                    requests: Int(requests),
                    errors: Int(errors),
                    promptTokens: Int(prompt),
                    completionTokens: Int(completion),
                    costUSD: cost
                )
            }
            return LedgerTotals(requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUSD: 0)
        }
    }

    private static func bindings(_ values: [LedgerQueryValue]) -> PostgresBindings {
        var binds = PostgresBindings(capacity: values.count + 1)
        for value in values {
            switch value {
            case .text(let text): binds.append(text)
            case .integer(let integer): binds.append(integer)
            case .double(let double): binds.append(double)
            }
        }
        return binds
    }
}
