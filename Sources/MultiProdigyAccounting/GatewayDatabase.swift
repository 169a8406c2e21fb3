import Foundation
import GRDB
import Logging

/// The gateway's database: the usage ledger, the virtual keys and the stored responses (``ResponseStore``),
/// on SQLite or PostgreSQL.
///
/// `storage: sqlite:PATH` (the default) keeps them in one file for one gateway process;
/// `storage: postgres://…` in a PostgreSQL database that any number of replicas share. Both hold
/// the same schema, migrated at open (safely when several processes open at once). Usage rows
/// reach the database through a local journal (see ``UsageJournal``): beside an SQLite file, in
/// the `journal` folder for PostgreSQL.
///
/// Opening migrates the schema and replays the usage journal, so rows recorded by a gateway that
/// was killed are in the tables before anything reads them.
///
/// ```swift
/// let database = try await GatewayDatabase.open(storage: config.storage)
/// ```
public final class GatewayDatabase: Sendable {
    /// Where the data is.
    public let location: StorageLocation
    /// The engine that keeps it.
    let engine: any StorageEngine
    /// The usage journal.
    let journal: UsageJournal
    /// Whether the engine answers, for `/ready` and the metrics.
    public let health: StorageHealth

    private init(engine: any StorageEngine, journal: UsageJournal) {
        location = engine.location
        self.engine = engine
        self.journal = journal
        health = StorageHealth()
    }

    /// Where the data is, safe to log: the SQLite file's path, or the PostgreSQL URL without its password.
    public var path: String {
        switch location {
        case .sqlite(let path): path
        case .postgres(let postgres): postgres.description
        }
    }

    /// Whether several gateway processes may share this database (PostgreSQL).
    public var isShared: Bool {
        if case .postgres = location { return true }
        return false
    }

    /// The SQLite connection pool, for tests that read the tables directly; nil on PostgreSQL.
    var sqlitePool: DatabasePool? { (engine as? SQLiteEngine)?.pool }

    /// Where replicas share keys' budgets and rate limits: the PostgreSQL engine; nil on SQLite,
    /// where one process counts them itself.
    public var sharedLimits: (any SharedLimitStore)? { engine as? PostgresEngine }

    /// The folder of the usage journal.
    public var journalDirectory: String { journal.directory }

    /// The default journal folder for PostgreSQL storage, relative to the working directory.
    public static let defaultJournalDirectory = "multiprodigy-usage-journal"

    /// Opens (creating when missing) the database that `storage:` names, migrates it and replays its usage journal.
    ///
    /// - Parameters:
    ///   - storage: `sqlite:PATH`, `sqlite://PATH`, a path (relative to the working directory) or `postgres://…`.
    ///   - journal: the usage journal's folder; nil for the default (beside an SQLite file,
    ///     ``defaultJournalDirectory`` for PostgreSQL).
    ///   - logger: receives the PostgreSQL client's own errors.
    /// - Throws: ``StorageError`` naming `storage` (never a password) and saying how to fix it.
    public static func open(
        storage: String,
        journal: String? = nil,
        logger: Logger = Logger(label: "multiprodigy.storage")
    ) async throws(StorageError) -> GatewayDatabase {
        switch try StorageLocation(parsing: storage) {
        case .sqlite(let path):
            return try await open(path: path, journal: journal, logger: logger)
        case .postgres(let location):
            let engine = try await PostgresEngine.open(location, logger: logger)
            let directory = URL(fileURLWithPath: journal ?? defaultJournalDirectory).standardizedFileURL.path
            return try await prepared(GatewayDatabase(engine: engine, journal: UsageJournal(directory: directory)), logger: logger)
        }
    }

    /// Opens (creating when missing) the SQLite file at `path`, migrates it and replays its usage journal.
    ///
    /// Missing folders on the way to the file are created.
    /// - Throws: ``StorageError`` when the file cannot be opened or is not a gateway database.
    public static func open(
        path: String,
        journal: String? = nil,
        logger: Logger = Logger(label: "multiprodigy.storage")
    ) async throws(StorageError) -> GatewayDatabase {
        let engine = try SQLiteEngine(path: path)
        let directory = journal.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        return try await prepared(
            GatewayDatabase(
                engine: engine,
                journal: directory.map(UsageJournal.init(directory:)) ?? UsageJournal(databasePath: engine.path)
            ),
            logger: logger
        )
    }

    private static func prepared(_ database: GatewayDatabase, logger: Logger) async throws(StorageError) -> GatewayDatabase {
        do {
            // A PostgreSQL journal folder is made by the gateway's ledger, not by a CLI command
            // that only replays one when it is there.
            if !database.isShared { try database.journal.prepare() }
        } catch {
            await database.close()
            throw error
        }
        // A journal that cannot be loaded now stays on disk, segment by segment, and is loaded by
        // the ledger's next replay (the next start, `multiprodigy usage`): no reason not to start.
        do {
            _ = try await database.replayUsageJournal()
        } catch {
            logger.warning("\(error.description)")
        }
        return database
    }

    /// Opens a new SQLite database in a fresh temporary folder; for tests and experiments.
    public static func temporary() async throws(StorageError) -> GatewayDatabase {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("multiprodigy-\(UUID().uuidString)")
        return try await open(path: folder.appendingPathComponent("gateway.db").path)
    }

    /// Stores the lines of every usage journal segment, and removes the segments of ledgers that are gone.
    ///
    /// Done when the database is opened; safe at any time (see ``UsageJournal/replay(into:)``).
    /// - Returns: how many journal lines were read.
    @discardableResult
    public func replayUsageJournal() async throws(StorageError) -> Int {
        do {
            return try await run("replay_journal") { engine in try await self.journal.replay(into: engine).entries }
        } catch {
            throw StorageError(
                problem: "storage: cannot load the usage journal \(journal.directory) into \(location): \(Self.describe(error))",
                fix:
                    "check that the disk has room and the database is writable and reachable; the journal is kept and loaded at the next start"
            )
        }
    }

    /// Closes the engine's connections; the database is not used afterwards.
    public func close() async {
        await engine.close()
    }

    /// Runs a call of the engine, counting its failure (by `operation`) or success in ``health``.
    func run<T: Sendable>(_ operation: StorageHealth.Operation, _ body: @Sendable (any StorageEngine) async throws -> T) async throws -> T {
        do {
            let value = try await body(engine)
            health.succeeded()
            return value
        } catch let error as KeyStoreError {
            // A refusal of the request (a taken name, an unknown key), not a failing database.
            health.succeeded()
            throw error
        } catch {
            health.failed(operation, error: Self.describe(error))
            throw error
        }
    }

    /// An engine's error as text without secrets.
    public static func describe(_ error: any Error) -> String {
        PostgresEngine.describe(error)
    }
}
