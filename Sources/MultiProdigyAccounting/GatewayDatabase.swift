import Foundation
import GRDB
import MultiProdigyConfig
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

/// The gateway's SQLite database: the usage ledger and the virtual keys.
///
/// Opened as a GRDB `DatabasePool` in WAL mode with `synchronous=NORMAL`: a commit survives the
/// death of the process (kill -9 included) without an `fsync` per transaction, and readers (a
/// `multiprodigy usage` report, a key lookup) never wait for the writer. Other processes may open
/// the same file at the same time; a busy writer is waited for up to 5 seconds.
///
/// Opening migrates the schema and replays the usage journal (see ``UsageJournal``), so rows
/// recorded by a gateway that was killed are in the tables before anything reads them.
///
/// ```swift
/// let database = try GatewayDatabase.open(storage: config.storage)
/// ```
public final class GatewayDatabase: Sendable {
    /// The database file, as an absolute path.
    public let path: String
    /// The connection pool.
    let pool: DatabasePool
    /// The usage journal beside the file.
    let journal: UsageJournal

    private init(path: String, pool: DatabasePool) {
        self.path = path
        self.pool = pool
        journal = UsageJournal(databasePath: path)
    }

    /// Opens (creating when missing) the database that `storage:` names, migrates it and replays its usage journal.
    ///
    /// - Parameter storage: `sqlite:PATH`, `sqlite://PATH` or a path, relative to the working directory.
    /// - Throws: ``StorageError`` naming `storage` and saying how to fix it.
    public static func open(storage: String) throws(StorageError) -> GatewayDatabase {
        switch try StorageLocation(parsing: storage) {
        case .sqlite(let path): return try open(path: path)
        }
    }

    /// Opens (creating when missing) the SQLite file at `path`, migrates it and replays its usage journal.
    ///
    /// Missing folders on the way to the file are created.
    /// - Throws: ``StorageError`` when the file cannot be opened or is not a gateway database.
    public static func open(path: String) throws(StorageError) -> GatewayDatabase {
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
        let database: GatewayDatabase
        do {
            let pool = try DatabasePool(path: url.path, configuration: configuration)
            try migrator.migrate(pool)
            database = GatewayDatabase(path: url.path, pool: pool)
        } catch {
            throw StorageError(
                problem: "storage: cannot open the SQLite database \(url.path): \(error)",
                fix: "check that the file is a MultiProdigy database and that its folder is writable, or point storage elsewhere"
            )
        }
        try database.journal.prepare()
        _ = try database.replayUsageJournal()
        return database
    }

    /// Opens a new database in a fresh temporary folder; for tests and experiments.
    public static func temporary() throws(StorageError) -> GatewayDatabase {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("multiprodigy-\(UUID().uuidString)")
        return try open(path: folder.appendingPathComponent("gateway.db").path)
    }

    /// Stores the lines of every usage journal segment, and removes the segments of ledgers that are gone.
    ///
    /// Done when the database is opened; safe at any time (see ``UsageJournal/replay(into:)``).
    /// - Returns: how many journal lines were read.
    @discardableResult
    public func replayUsageJournal() throws(StorageError) -> Int {
        do {
            return try journal.replay(into: pool).entries
        } catch {
            throw StorageError(
                problem: "storage: cannot load the usage journal \(journal.directory) into \(path): \(error)",
                fix: "check that the disk has room and the database is writable; the journal is kept and loaded at the next start"
            )
        }
    }

    /// The schema, one migration per change; never edit one that has shipped.
    private static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: usage and keys") { db in
            // Times are seconds since 1970 (UTC); the journal pair is the idempotency key of a replay.
            try db.execute(
                sql: """
                    CREATE TABLE usage (
                        id INTEGER PRIMARY KEY,
                        journal_token INTEGER NOT NULL,
                        journal_sequence INTEGER NOT NULL,
                        time REAL NOT NULL,
                        request_id TEXT NOT NULL,
                        key_name TEXT,
                        endpoint TEXT NOT NULL,
                        route TEXT NOT NULL,
                        provider TEXT,
                        model TEXT,
                        prompt_tokens INTEGER NOT NULL,
                        completion_tokens INTEGER NOT NULL,
                        cost_usd REAL NOT NULL,
                        latency_seconds REAL NOT NULL,
                        ttft_seconds REAL,
                        status INTEGER NOT NULL,
                        attempts INTEGER NOT NULL,
                        UNIQUE (journal_token, journal_sequence)
                    );
                    CREATE INDEX usage_time ON usage (time);
                    CREATE INDEX usage_key_time ON usage (key_name, time);
                    CREATE INDEX usage_request_id ON usage (request_id);
                    CREATE TABLE keys (
                        id TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        secret_hash TEXT NOT NULL UNIQUE,
                        prefix TEXT NOT NULL,
                        budget_usd REAL,
                        budget_period TEXT,
                        requests_per_minute INTEGER,
                        tokens_per_minute INTEGER,
                        routes TEXT,
                        privacy TEXT,
                        created_at REAL NOT NULL,
                        revoked_at REAL
                    );
                    CREATE UNIQUE INDEX keys_active_name ON keys (name) WHERE revoked_at IS NULL;
                    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    INSERT INTO counters (name, value) VALUES ('keys_version', 0);
                    """
            )
        }
        return migrator
    }()
}
