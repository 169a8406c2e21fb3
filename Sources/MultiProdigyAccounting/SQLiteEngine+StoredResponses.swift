import Foundation
import GRDB

/// Stored responses in the SQLite file: each call one statement, the owner always in its `WHERE`.
extension SQLiteEngine {
    func insertStoredResponse(_ row: StoredResponse) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO stored_responses (\(StoredResponse.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    row.id, row.owner, row.createdAt.timeIntervalSince1970, row.model, row.status, row.response, row.inputItems,
                    row.conversation,
                ]
            )
        }
    }

    func storedResponse(id: String, owner: String) async throws -> StoredResponse? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT \(StoredResponse.columns) FROM stored_responses WHERE id = ? AND owner = ?",
                arguments: [id, owner]
            ).map { row in
                StoredResponse(
                    id: row[0],
                    owner: row[1],
                    createdAt: Date(timeIntervalSince1970: row[2]),
                    model: row[3],
                    status: row[4],
                    response: row[5],
                    inputItems: row[6],
                    conversation: row[7]
                )
            }
        }
    }

    func deleteStoredResponse(id: String, owner: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM stored_responses WHERE id = ? AND owner = ?", arguments: [id, owner])
            return db.changesCount > 0
        }
    }

    func deleteStoredResponses(olderThan time: Double, limit: Int) async throws -> Int {
        try await pool.write { db in
            // `DELETE … LIMIT` needs a compile-time option of SQLite; a subquery on the index does not.
            try db.execute(
                sql: """
                    DELETE FROM stored_responses WHERE id IN (
                        SELECT id FROM stored_responses WHERE created_at < ? ORDER BY created_at LIMIT ?
                    )
                    """,
                arguments: [time, limit]
            )
            return db.changesCount
        }
    }
}
