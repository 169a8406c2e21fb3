import Foundation
import GRDB
import Testing

@testable import MultiProdigyAccounting

/// Stored responses on SQLite: each visible only to its owner, deleted only by it, expired by age,
/// and a v3 migration that keeps what a v2 database held.
@Suite struct ResponseStoreTests {
    static let created = Date(timeIntervalSince1970: 1_767_225_600)

    /// A row whose JSON columns differ from each other, so a swapped column is seen.
    static func row(_ id: String, owner: String, at time: Date = created, image: String = "") -> StoredResponse {
        StoredResponse(
            id: id,
            owner: owner,
            createdAt: time,
            model: "gpt-4o-mini",
            status: "completed",
            response: #"{"id":"\#(id)","object":"response","output_text":"Grüße 👋"}"#,
            inputItems: #"[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,\#(image)"}]}]"#,
            conversation: #"[{"role":"user","content":"Hi"},{"role":"assistant","content":"Grüße 👋"}]"#
        )
    }

    @Test func aSavedResponseIsReadBackWhole() async throws {
        let store = try await GatewayDatabase.temporary().responses
        // A 3 MB image, as base64, in one row.
        let image = Data((0..<2_250_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).base64EncodedString()
        let row = Self.row("resp_1", owner: "key_a", image: image)
        try await store.save(row)
        let read = try #require(try await store.response(id: "resp_1", owner: "key_a"))
        #expect(read == row)
        #expect(read.inputItems.utf8.count > 3_000_000)
        var partial = Self.row("resp_2", owner: "none")
        (partial.model, partial.status) = (nil, nil)
        try await store.save(partial)
        #expect(try await store.response(id: "resp_2", owner: "none") == partial)
        #expect(try await store.response(id: "resp_3", owner: "key_a") == nil)
    }

    @Test func anotherOwnerSeesNothingAndCannotDelete() async throws {
        let store = try await GatewayDatabase.temporary().responses
        let row = Self.row("resp_1", owner: "key_a")
        try await store.save(row)
        for stranger in ["key_b", "master", "none", "KEY_A", "key_a ", ""] {
            #expect(try await store.response(id: "resp_1", owner: stranger) == nil, "\(stranger)")
            #expect(try await store.delete(id: "resp_1", owner: stranger) == false, "\(stranger)")
        }
        #expect(try await store.response(id: "resp_1", owner: "key_a") == row)

        #expect(try await store.delete(id: "resp_1", owner: "key_a"))
        #expect(try await store.response(id: "resp_1", owner: "key_a") == nil)
        #expect(try await store.delete(id: "resp_1", owner: "key_a") == false)
    }

    @Test func aTakenIDIsRefusedAndTheFirstRowKept() async throws {
        let store = try await GatewayDatabase.temporary().responses
        let first = Self.row("resp_1", owner: "key_a")
        try await store.save(first)
        await #expect(throws: (any Error).self) { try await store.save(Self.row("resp_1", owner: "key_b")) }
        #expect(try await store.response(id: "resp_1", owner: "key_a") == first)
        #expect(try await store.response(id: "resp_1", owner: "key_b") == nil)
    }

    @Test func retentionDeletesEveryOwnersOlderResponsesInBatches() async throws {
        let database = try await GatewayDatabase.temporary()
        let store = database.responses
        // More old rows than one batch deletes, so that several statements run.
        let old = ResponseStore.retentionBatch + 7
        for index in 0..<old {
            try await store.save(Self.row("resp_old\(index)", owner: index % 2 == 0 ? "key_a" : "key_b", at: Self.created))
        }
        let cutoff = Self.created.addingTimeInterval(3600)
        try await store.save(Self.row("resp_at_cutoff", owner: "key_a", at: cutoff))
        try await store.save(Self.row("resp_new", owner: "key_b", at: cutoff.addingTimeInterval(1)))

        #expect(try await store.deleteOlderThan(cutoff) == old)
        #expect(try await store.response(id: "resp_old0", owner: "key_a") == nil)
        #expect(try await store.response(id: "resp_old1", owner: "key_b") == nil)
        #expect(try await store.response(id: "resp_at_cutoff", owner: "key_a") != nil)
        #expect(try await store.response(id: "resp_new", owner: "key_b") != nil)
        let left = try await database.sqlitePool!.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stored_responses") }
        #expect(left == 2)
        #expect(try await store.deleteOlderThan(cutoff) == 0)
    }

    @Test func oneRetentionCallRunsAtMostItsBatchesAndTheNextCallContinues() async throws {
        let database = try await GatewayDatabase.temporary()
        let store = database.responses
        for index in 0..<25 { try await store.save(Self.row("resp_old\(index)", owner: "key_a", at: Self.created)) }
        let cutoff = Self.created.addingTimeInterval(3600)
        try await store.save(Self.row("resp_new", owner: "key_a", at: cutoff))
        let count = { try await database.sqlitePool!.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stored_responses") } }

        #expect(try await store.deleteOlderThan(cutoff, batchSize: 10, maxBatches: 2) == 20)
        #expect(try await count() == 6)
        #expect(try await store.deleteOlderThan(cutoff, batchSize: 10, maxBatches: 2) == 5)
        #expect(try await store.deleteOlderThan(cutoff, batchSize: 10, maxBatches: 2) == 0)
        #expect(try await count() == 1)
        #expect(try await store.response(id: "resp_new", owner: "key_a") != nil)
    }

    @Test func oneRetentionCallStartsNoStatementPastItsTimeLimit() async throws {
        let database = try await GatewayDatabase.temporary()
        let store = database.responses
        for index in 0..<25 { try await store.save(Self.row("resp_old\(index)", owner: "key_a", at: Self.created)) }
        let cutoff = Self.created.addingTimeInterval(3600)
        // The first statement always runs; with no time left, none after it.
        #expect(try await store.deleteOlderThan(cutoff, batchSize: 10, maxBatches: 100, timeLimit: .zero) == 10)
        #expect(try await store.deleteOlderThan(cutoff, batchSize: 10, maxBatches: 100) == 15)
    }

    @Test func aFailingDatabaseIsReportedInHealthAndRecovers() async throws {
        let database = try await GatewayDatabase.temporary()
        let store = database.responses
        try await store.save(Self.row("resp_1", owner: "key_a"))
        try await database.sqlitePool!.write { db in try db.execute(sql: "ALTER TABLE stored_responses RENAME TO away") }
        await #expect(throws: (any Error).self) { try await store.response(id: "resp_1", owner: "key_a") }
        await #expect(throws: (any Error).self) { try await store.save(Self.row("resp_2", owner: "key_a")) }
        let failing = database.health.snapshot
        #expect(!failing.isAvailable)
        #expect(failing.errors == ["responses": 2])

        try await database.sqlitePool!.write { db in try db.execute(sql: "ALTER TABLE away RENAME TO stored_responses") }
        #expect(try await store.response(id: "resp_1", owner: "key_a") != nil)
        #expect(database.health.isAvailable)
    }

    @Test func aVersion2DatabaseGainsTheTableAndKeepsItsKeys() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mp-v2-\(UUID().uuidString)/gateway.db").path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        // The file as a gateway that knew migrations 1 and 2 left it, with a key.
        let keyID = try await Self.makeVersion2Database(at: path)

        // Several processes' opens at once: each waits for the first migration, none applies it twice.
        let databases = try await withThrowingTaskGroup(of: GatewayDatabase.self) { group in
            for _ in 0..<4 { group.addTask { try await GatewayDatabase.open(path: path) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let versions = try await databases[0].sqlitePool!.read { db in
            try Int.fetchAll(db, sql: "SELECT version FROM schema_migrations ORDER BY version")
        }
        #expect(versions == [1, 2, 3, 4])
        #expect(try await KeyStore(database: databases[0]).list().map(\.id) == [keyID])

        let row = Self.row("resp_1", owner: keyID)
        try await databases[1].responses.save(row)
        #expect(try await databases[2].responses.response(id: "resp_1", owner: keyID) == row)
        for database in databases { await database.close() }
    }

    /// Writes migrations 1 and 2 as they shipped, and a key; returns its id.
    private static func makeVersion2Database(at path: String) async throws -> String {
        let queue = try DatabaseQueue(path: path)
        let keyID = "key_v2v2v2v2"
        try await queue.write { db in
            try db.execute(sql: SchemaMigration.createTable)
            for migration in [SchemaMigration.usageAndKeys, SchemaMigration.sharedLimits] {
                try db.execute(sql: migration.sqlite)
                try db.execute(
                    sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)",
                    arguments: [migration.version, migration.name]
                )
            }
            try db.execute(
                sql: "INSERT INTO keys (id, name, secret_hash, prefix, created_at) VALUES (?, 'team-a', ?, 'mp-Ab3dE', 1750000000)",
                arguments: [keyID, String(repeating: "0", count: 64)]
            )
        }
        try queue.close()
        #expect(SchemaMigration.all.map(\.version) == [1, 2, 3, 4])
        return keyID
    }
}
