import Foundation
import GRDB
import MultiProdigyCore

/// The SQLite storage engine: one file, for one gateway process (the CLI may use it at the same time).
///
/// Opened as a GRDB `DatabasePool` in WAL mode with `synchronous=NORMAL`: a commit survives the
/// death of the process (kill -9 included) without an `fsync` per transaction, and readers (a
/// `multiprodigy usage` report, a key lookup) never wait for the writer. Other processes may open
/// the same file at the same time; a busy writer is waited for up to 5 seconds.
final class SQLiteEngine: StorageEngine {
    /// The database file, as an absolute path.
    let path: String
    /// The connection pool.
    let pool: DatabasePool

    var location: StorageLocation { .sqlite(path: path) }

    /// Opens (creating when missing) the file at `path` and applies the migrations it lacks.
    init(path: String) throws(StorageError) {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw StorageError(
                problem: "storage: cannot create the folder of \(url.path): \(error.localizedDescription)",
                fix: "create it, or point storage at a writable place"
            )
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "multiprodigy"
        // The gateway reads little (keys, spend at a key's first use) and writes small batches: two
        // readers and a 512 KiB page cache per connection keep its memory small.
        configuration.maximumReaderCount = 2
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -512")
        }
        do {
            pool = try DatabasePool(path: url.path, configuration: configuration)
            try Self.migrate(pool)
        } catch {
            throw StorageError(
                problem: "storage: cannot open the SQLite database \(url.path): \(error)",
                fix: "check that the file is a MultiProdigy database and that its folder is writable, or point storage elsewhere"
            )
        }
        self.path = url.path
    }

    /// Applies the migrations the file lacks, in one `BEGIN IMMEDIATE` transaction: a second
    /// process starting at the same moment waits for the first, then finds them applied.
    static func migrate(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try db.execute(sql: SchemaMigration.createTable)
                var applied = Set(try Int.fetchAll(db, sql: "SELECT version FROM schema_migrations"))
                // A file made before `schema_migrations` recorded GRDB's migrator's first migration.
                if applied.isEmpty, try db.tableExists("grdb_migrations"),
                    try Bool.fetchOne(db, sql: "SELECT 1 FROM grdb_migrations WHERE identifier = 'v1: usage and keys'") == true
                {
                    try record(SchemaMigration.usageAndKeys, in: db)
                    applied.insert(SchemaMigration.usageAndKeys.version)
                }
                for migration in SchemaMigration.all where !applied.contains(migration.version) {
                    try db.execute(sql: migration.sqlite)
                    try record(migration, in: db)
                }
                return .commit
            }
        }
    }

    private static func record(_ migration: SchemaMigration, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            arguments: [migration.version, migration.name, Date().timeIntervalSince1970]
        )
    }

    // MARK: Keys

    func insertKey(_ row: KeyRow) async throws -> KeyRow {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM keys WHERE name = ? AND revoked_at IS NULL", arguments: [row.name]) == true {
                throw KeyStoreError.nameInUse(row.name)
            }
            var row = row
            while try Bool.fetchOne(db, sql: "SELECT 1 FROM keys WHERE id = ?", arguments: [row.id]) == true {
                row.id = KeySecret.generateIdentifier()
            }
            try db.execute(
                sql: "INSERT INTO keys (\(KeyRow.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    row.id, row.name, row.secretHash, row.prefix, row.budgetUSD, row.budgetPeriod, row.requestsPerMinute,
                    row.tokensPerMinute, row.routes, row.privacy, row.createdAt, row.revokedAt,
                ]
            )
            try Self.bumpKeysVersion(db)
            return try Self.keyRow(db, sql: "SELECT * FROM keys WHERE id = ?", arguments: [row.id]) ?? row
        }
    }

    func revokeKey(nameOrID: String, at time: Double) async throws -> KeyRow {
        try await pool.write { db in
            let row =
                try Self.keyRow(db, sql: "SELECT * FROM keys WHERE id = ? AND revoked_at IS NULL", arguments: [nameOrID])
                ?? Self.keyRow(db, sql: "SELECT * FROM keys WHERE name = ? AND revoked_at IS NULL", arguments: [nameOrID])
            guard var row else {
                let known = try Bool.fetchOne(db, sql: "SELECT 1 FROM keys WHERE id = ? OR name = ?", arguments: [nameOrID, nameOrID])
                throw known == true ? KeyStoreError.alreadyRevoked(nameOrID) : KeyStoreError.unknownKey(nameOrID)
            }
            try db.execute(sql: "UPDATE keys SET revoked_at = ? WHERE id = ?", arguments: [time, row.id])
            try Self.bumpKeysVersion(db)
            row.revokedAt = time
            return row
        }
    }

    func keyRows(includingRevoked: Bool) async throws -> [KeyRow] {
        try await pool.read { db in
            let filter = includingRevoked ? "" : "WHERE revoked_at IS NULL"
            return try Row.fetchAll(db, sql: "SELECT * FROM keys \(filter) ORDER BY created_at, id").map(Self.keyRow(from:))
        }
    }

    func keyRow(secretHash: String) async throws -> KeyRow? {
        try await pool.read { db in
            try Self.keyRow(db, sql: "SELECT * FROM keys WHERE secret_hash = ?", arguments: [secretHash])
        }
    }

    func keyDirectory() async throws -> KeyDirectory {
        try await pool.read { db in
            var directory = KeyDirectory(version: try Self.keysVersion(db))
            if let counts = try Row.fetchOne(db, sql: KeyRow.directoryCountsQuery) {
                directory.reserve(active: counts[0] ?? 0, revoked: counts[1] ?? 0)
            }
            let rows = try Row.fetchCursor(db, sql: "SELECT \(KeyRow.directoryColumns) FROM keys")
            while let row = try rows.next() { try directory.add(Self.keyRow(from: row)) }
            return directory
        }
    }

    func keysVersion() async throws -> Int {
        try await pool.read { db in try Self.keysVersion(db) }
    }

    private static func keysVersion(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT value FROM counters WHERE name = 'keys_version'") ?? 0
    }

    private static func bumpKeysVersion(_ db: Database) throws {
        try db.execute(sql: "UPDATE counters SET value = value + 1 WHERE name = 'keys_version'")
    }

    private static func keyRow(_ db: Database, sql: String, arguments: StatementArguments) throws -> KeyRow? {
        try Row.fetchOne(db, sql: sql, arguments: arguments).map(keyRow(from:))
    }

    private static func keyRow(from row: Row) -> KeyRow {
        KeyRow(
            id: row["id"],
            name: row["name"],
            secretHash: row["secret_hash"],
            prefix: row["prefix"],
            budgetUSD: row["budget_usd"],
            budgetPeriod: row["budget_period"],
            requestsPerMinute: row["requests_per_minute"],
            tokensPerMinute: row["tokens_per_minute"],
            routes: row["routes"],
            privacy: row["privacy"],
            createdAt: row["created_at"],
            revokedAt: row["revoked_at"]
        )
    }

    // MARK: Usage

    func insertUsage(_ entries: [JournaledUsage]) async throws {
        try await pool.write { db in try Self.insert(entries, into: db) }
    }

    /// Inserts `entries` into the `usage` table; entries already there (same token and sequence) are ignored.
    static func insert(_ entries: [JournaledUsage], into db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO usage (
                    journal_token, journal_sequence, time, request_id, key_name, endpoint, route, provider, model,
                    prompt_tokens, completion_tokens, cost_usd, latency_seconds, ttft_seconds, status, attempts, path
                ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        for entry in entries {
            let record = entry.record
            try statement.execute(arguments: [
                entry.token, entry.sequence, record.time.timeIntervalSince1970, record.requestID, record.keyName,
                record.endpoint, record.route, record.provider, record.model, record.promptTokens,
                record.completionTokens, record.costUSD, record.latencySeconds, record.timeToFirstTokenSeconds,
                record.status, record.attempts, record.pathText,
            ])
        }
    }

    func usageSummary(since: Date, groupColumn: String) async throws -> [UsageSummaryRow] {
        try await pool.read { db in
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

    func spend(keyName: String, since: Date) async throws -> Double {
        try await pool.read { db in
            try Double.fetchOne(
                db,
                sql: "SELECT TOTAL(cost_usd) FROM usage WHERE key_name = ? AND time >= ?",
                arguments: [keyName, since.timeIntervalSince1970]
            ) ?? 0
        }
    }

    func spendByKey(since: Date) async throws -> [String: Double] {
        try await pool.read { db in
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

    func close() async {
        try? pool.close()
    }
}
