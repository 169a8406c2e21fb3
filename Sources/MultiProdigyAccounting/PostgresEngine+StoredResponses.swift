import Foundation
import PostgresNIO

/// Stored responses in the shared PostgreSQL database: each call one statement, bounded like every
/// other call (``PostgresEngine/bounded(_:)``), the owner always in its `WHERE`. A response is one
/// `INSERT` with its JSON bound as text parameters, however large.
extension PostgresEngine {
    func insertStoredResponse(_ row: StoredResponse) async throws {
        let createdAt = row.createdAt.timeIntervalSince1970
        try await bounded { [client] in
            try await client.withConnection { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO stored_responses (\(unescaped: StoredResponse.columns)) VALUES (\(row.id), \(row.owner), \(createdAt), \
                    \(row.model), \(row.status), \(row.response), \(row.inputItems), \(row.conversation))
                    """,
                    logger: Self.silent
                )
            }
        }
    }

    func storedResponse(id: String, owner: String) async throws -> StoredResponse? {
        try await bounded { [client] in
            let rows = try await client.query(
                "SELECT \(unescaped: StoredResponse.columns) FROM stored_responses WHERE id = \(id) AND owner = \(owner)",
                logger: Self.silent
            )
            for try await (id, owner, createdAt, model, status, response, inputItems, conversation) in rows.decode(
                (String, String, Double, String?, String?, String, String, String).self
            ) {
                return StoredResponse(
                    id: id,
                    owner: owner,
                    createdAt: Date(timeIntervalSince1970: createdAt),
                    model: model,
                    status: status,
                    response: response,
                    inputItems: inputItems,
                    conversation: conversation
                )
            }
            return nil
        }
    }

    func deleteStoredResponse(id: String, owner: String) async throws -> Bool {
        try await bounded { [client] in
            try await !client.query(
                "DELETE FROM stored_responses WHERE id = \(id) AND owner = \(owner) RETURNING 1",
                logger: Self.silent
            ).collect().isEmpty
        }
    }

    func deleteStoredResponses(olderThan time: Double, limit: Int) async throws -> Int {
        try await bounded { [client] in
            for try await count in try await client.query(
                """
                WITH deleted AS (
                    DELETE FROM stored_responses WHERE id IN (
                        SELECT id FROM stored_responses WHERE created_at < \(time) ORDER BY created_at LIMIT \(limit)
                    ) RETURNING 1
                )
                SELECT count(*) FROM deleted
                """,
                logger: Self.silent
            ).decode(Int.self) {
                return count
            }
            return 0
        }
    }
}
