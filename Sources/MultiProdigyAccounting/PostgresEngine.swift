import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization

/// The PostgreSQL storage engine: one database that any number of gateway replicas share.
///
/// A pool of at most ``maximumConnections`` connections (postgres-nio's `PostgresClient`), run by
/// a task of the engine's own from ``open(_:logger:)`` to ``close()``. Every call is bounded by
/// ``operationTimeout``: a server that stops answering fails the call instead of holding it, so
/// the ledger's writer retries later and key refreshes keep their last directory.
final class PostgresEngine: StorageEngine {
    /// Where the database is (its description has no password).
    let postgres: PostgresLocation
    /// The connection pool.
    let client: PostgresClient
    private let runner: Task<Void, Never>
    /// How long one call may take, connection included.
    let operationTimeout: Duration

    var location: StorageLocation { .postgres(postgres) }

    /// The most connections one gateway opens.
    static let maximumConnections = 8

    /// A key of `pg_advisory_xact_lock` that serialises migrations across processes ("MPGW").
    static let migrationLock: Int64 = 0x4D50_4757

    private init(postgres: PostgresLocation, client: PostgresClient, operationTimeout: Duration) {
        self.postgres = postgres
        self.client = client
        self.operationTimeout = operationTimeout
        runner = Task { await client.run() }
    }

    /// Connects to `location`, and applies the migrations the database lacks.
    ///
    /// - Parameters:
    ///   - location: the server and database.
    ///   - logger: postgres-nio's background messages go here, at `error` level and above only.
    ///   - operationTimeout: the bound on each call.
    /// - Throws: ``StorageError`` naming the server (never the password) and saying how to fix it.
    static func open(
        _ location: PostgresLocation,
        logger: Logger,
        operationTimeout: Duration = .seconds(10)
    ) async throws(StorageError) -> PostgresEngine {
        var configuration: PostgresClient.Configuration
        if let socket = location.socketPath {
            configuration = .init(unixSocketPath: socket, username: location.user, password: location.password, database: location.database)
        } else {
            configuration = .init(
                host: location.host ?? "localhost",
                port: location.port,
                username: location.user,
                password: location.password,
                database: location.database,
                tls: Self.tls(for: location.tls)
            )
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = sessionSettings
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        let engine = PostgresEngine(
            postgres: location,
            client: PostgresClient(configuration: configuration, backgroundLogger: quiet),
            operationTimeout: operationTimeout
        )
        do {
            // One connection of its own first: a wrong password or an unreachable server fails at
            // once with the server's own reason, where the pool would retry until its timeout.
            try await engine.bounded {
                let connection = try await PostgresConnection.connect(
                    configuration: try Self.connectionConfiguration(location),
                    id: 0,
                    logger: Self.silent
                )
                do {
                    try await Self.migrate(connection)
                    try await connection.close()
                } catch {
                    try? await connection.close()
                    throw error
                }
            }
        } catch {
            await engine.close()
            throw StorageError(
                problem: "storage: cannot use the PostgreSQL database \(location): \(Self.describe(error))",
                fix: "check that the server is running and reachable, and the user, password, database and sslmode are right"
            )
        }
        return engine
    }

    private static func tls(for mode: PostgresLocation.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(tlsConfiguration(for: mode))
        case .require, .verifyCA, .verifyFull: .require(tlsConfiguration(for: mode))
        }
    }

    /// What `sslmode` checks of the server's certificate: nothing for `prefer` and `require` (as libpq).
    private static func tlsConfiguration(for mode: PostgresLocation.TLSMode) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .disable, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: break
        }
        return configuration
    }

    /// The configuration of the single connection that migrates the schema at open.
    private static func connectionConfiguration(_ location: PostgresLocation) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socket = location.socketPath {
            configuration = .init(unixSocketPath: socket, username: location.user, password: location.password, database: location.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch location.tls {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration(for: location.tls)))
            case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: tlsConfiguration(for: location.tls)))
            }
            configuration = .init(
                host: location.host ?? "localhost",
                port: location.port,
                username: location.user,
                password: location.password,
                database: location.database,
                tls: tls
            )
        }
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = sessionSettings
        return configuration
    }

    /// A PostgreSQL error as text without secrets: postgres-nio's own description hides the
    /// server's message, which is what tells an operator what is wrong (never a password).
    static func describe(_ error: any Error) -> String {
        if let error = error as? StorageNotReached { return describe(error.underlying) }
        if let error = error as? PSQLError {
            var text = "\(error.code)"
            if let message = error.serverInfo?[.message] { text += ": \(message)" }
            if let state = error.serverInfo?[.sqlState] { text += " (SQLSTATE \(state))" }
            if let underlying = error.underlying { text += ": \(underlying)" }
            return text
        }
        return "\(error)"
    }

    /// Runs `operation`, failing with ``StorageTimeout`` after ``operationTimeout`` without waiting
    /// for it: postgres-nio's queries do not stop when cancelled, so a call to a server that stopped
    /// answering is left to finish (or to meet the server's `statement_timeout` and
    /// `idle_in_transaction_session_timeout`) on its own. A call that timed out may still take
    /// effect; every caller errs on the safe side then (see ``SharedLimitStore``).
    func bounded<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await StoreCallDeadline.run(timeout: operationTimeout, operation)
        } catch is StoreCallDeadline.TimedOut {
            throw StorageTimeout(after: operationTimeout)
        }
    }

    /// Run-time settings sent when each connection starts: the server ends a statement, or a
    /// transaction left open by a client that went away, after 30 s, releasing its row locks.
    static let sessionSettings = [
        ("application_name", "multiprodigy"),
        ("statement_timeout", "30000"),
        ("idle_in_transaction_session_timeout", "30000"),
    ]

    /// Applies the migrations the database lacks, under a transaction-scoped advisory lock.
    private static func migrate(_ connection: PostgresConnection) async throws {
        try await connection.query("BEGIN", logger: Self.silent)
        do {
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: Self.silent)
            try await connection.query(PostgresQuery(unsafeSQL: SchemaMigration.createTable), logger: Self.silent)
            var applied = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: Self.silent)
                .decode(Int.self)
            {
                applied.insert(version)
            }
            for migration in SchemaMigration.all where !applied.contains(migration.version) {
                for statement in Self.statements(of: migration.postgres) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Self.silent)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(migration.version), \(migration.name), \(Date().timeIntervalSince1970))",
                    logger: Self.silent
                )
            }
            try await connection.query("COMMIT", logger: Self.silent)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: Self.silent)
            throw error
        }
    }

    /// Runs `body` in a transaction on one connection: committed when it returns, rolled back when
    /// it throws, whose error is thrown as is (postgres-nio's `withTransaction` wraps it).
    ///
    /// A failure before the transaction began (no connection could be had, or `BEGIN` failed) is
    /// thrown as ``StorageNotReached``: nothing of `body` can have taken effect. With
    /// `readOnlySnapshot`, every statement of `body` reads one snapshot (repeatable read, read only).
    static func transaction<T: Sendable>(
        _ client: PostgresClient,
        readOnlySnapshot: Bool = false,
        _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let began = Atomic<Bool>(false)
        do {
            return try await client.withConnection { connection in
                if readOnlySnapshot {
                    try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: silent)
                } else {
                    try await connection.query("BEGIN", logger: silent)
                }
                began.store(true, ordering: .relaxed)
                do {
                    let value = try await body(connection)
                    try await connection.query("COMMIT", logger: silent)
                    return value
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: silent)
                    throw error
                }
            }
        } catch {
            if began.load(ordering: .relaxed) { throw error }
            throw StorageNotReached(underlying: error)
        }
    }

    /// The statements of a migration: the extended protocol takes one at a time.
    static func statements(of sql: String) -> [String] {
        sql.components(separatedBy: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Queries' own logging is off: the gateway logs failures itself, without their parameters.
    static let silent = Logger(label: "multiprodigy.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    // MARK: Keys

    func insertKey(_ row: KeyRow) async throws -> KeyRow {
        try await bounded { [client] in
            do {
                return try await Self.transaction(client) { connection in
                    let taken = try await connection.query(
                        "SELECT 1 FROM keys WHERE name = \(row.name) AND revoked_at IS NULL",
                        logger: Self.silent
                    ).collect()
                    guard taken.isEmpty else { throw KeyStoreError.nameInUse(row.name) }
                    var row = row
                    while try await !connection.query("SELECT 1 FROM keys WHERE id = \(row.id)", logger: Self.silent).collect().isEmpty {
                        row.id = KeySecret.generateIdentifier()
                    }
                    try await connection.query(
                        """
                        INSERT INTO keys (\(unescaped: KeyRow.columns)) VALUES (\(row.id), \(row.name), \(row.secretHash), \(row.prefix), \
                        \(row.budgetUSD), \(row.budgetPeriod), \(row.requestsPerMinute), \(row.tokensPerMinute), \(row.routes), \
                        \(row.privacy), \(row.createdAt), \(row.revokedAt))
                        """,
                        logger: Self.silent
                    )
                    try await Self.bumpKeysVersion(connection)
                    return row
                }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                // Another replica created a key of that name between our check and our insert.
                throw KeyStoreError.nameInUse(row.name)
            }
        }
    }

    func revokeKey(nameOrID: String, at time: Double) async throws -> KeyRow {
        try await bounded { [client] in
            try await Self.transaction(client) { connection in
                var row = try await Self.keyRows(
                    connection.query(
                        "SELECT \(unescaped: KeyRow.columns) FROM keys WHERE id = \(nameOrID) AND revoked_at IS NULL FOR UPDATE",
                        logger: Self.silent
                    )
                ).first
                if row == nil {
                    row = try await Self.keyRows(
                        connection.query(
                            "SELECT \(unescaped: KeyRow.columns) FROM keys WHERE name = \(nameOrID) AND revoked_at IS NULL FOR UPDATE",
                            logger: Self.silent
                        )
                    ).first
                }
                guard var row else {
                    let known = try await connection.query(
                        "SELECT 1 FROM keys WHERE id = \(nameOrID) OR name = \(nameOrID)",
                        logger: Self.silent
                    ).collect()
                    throw known.isEmpty ? KeyStoreError.unknownKey(nameOrID) : KeyStoreError.alreadyRevoked(nameOrID)
                }
                try await connection.query("UPDATE keys SET revoked_at = \(time) WHERE id = \(row.id)", logger: Self.silent)
                try await Self.bumpKeysVersion(connection)
                row.revokedAt = time
                return row
            }
        }
    }

    func keyRows(includingRevoked: Bool) async throws -> [KeyRow] {
        try await bounded { [client] in
            let filter = includingRevoked ? "" : "WHERE revoked_at IS NULL"
            return try await Self.keyRows(
                client.query(
                    "SELECT \(unescaped: KeyRow.columns) FROM keys \(unescaped: filter) ORDER BY created_at, id",
                    logger: Self.silent
                )
            )
        }
    }

    func keyRow(secretHash: String) async throws -> KeyRow? {
        try await bounded { [client] in
            try await Self.keyRows(
                client.query("SELECT \(unescaped: KeyRow.columns) FROM keys WHERE secret_hash = \(secretHash)", logger: Self.silent)
            ).first
        }
    }

    func keyDirectory() async throws -> KeyDirectory {
        try await bounded { [client] in
            // One snapshot for the counter and the rows: a directory read in separate statements
            // could pair an older counter with newer rows, and lose to an older directory that
            // carries a newer counter (a key just created would vanish until the next change).
            try await Self.transaction(client, readOnlySnapshot: true) { connection in
                var directory = KeyDirectory(version: try await Self.keysVersion(connection))
                for try await (active, revoked) in try await connection.query(
                    PostgresQuery(unsafeSQL: KeyRow.directoryCountsQuery),
                    logger: Self.silent
                ).decode((Int, Int).self) {
                    directory.reserve(active: active, revoked: revoked)
                }
                let rows = try await connection.query("SELECT \(unescaped: KeyRow.directoryColumns) FROM keys", logger: Self.silent)
                for try await row in rows { try directory.add(try Self.keyRow(from: row)) }
                return directory
            }
        }
    }

    func keysVersion() async throws -> Int {
        try await bounded { [client] in
            try await client.withConnection { connection in try await Self.keysVersion(connection) }
        }
    }

    private static func keysVersion(_ connection: PostgresConnection) async throws -> Int {
        for try await value in try await connection.query(
            "SELECT value FROM counters WHERE name = 'keys_version'",
            logger: silent
        ).decode(Int.self) {
            return value
        }
        return 0
    }

    private static func bumpKeysVersion(_ connection: PostgresConnection) async throws {
        try await connection.query("UPDATE counters SET value = value + 1 WHERE name = 'keys_version'", logger: silent)
    }

    private static func keyRows(_ rows: PostgresRowSequence) async throws -> [KeyRow] {
        var result: [KeyRow] = []
        for try await row in rows { result.append(try keyRow(from: row)) }
        return result
    }

    /// The key of a row of ``KeyRow/columns`` (or ``KeyRow/directoryColumns``), column by column.
    private static func keyRow(from row: PostgresRow) throws -> KeyRow {
        let (id, name, hash, prefix, budget, period, rpm, tpm, routes, privacy, created, revoked) = try row.decode(
            (String, String, String, String, Double?, String?, Int?, Int?, String?, String?, Double, Double?).self
        )
        return KeyRow(
            id: id,
            name: name,
            secretHash: hash,
            prefix: prefix,
            budgetUSD: budget,
            budgetPeriod: period,
            requestsPerMinute: rpm,
            tokensPerMinute: tpm,
            routes: routes,
            privacy: privacy,
            createdAt: created,
            revokedAt: revoked
        )
    }

    // MARK: Usage

    /// Rows per `INSERT`: a few hundred kilobytes of JSON at most.
    static let rowsPerInsert = 1000

    func insertUsage(_ entries: [JournaledUsage]) async throws {
        guard !entries.isEmpty else { return }
        try await bounded { [client] in
            try await Self.transaction(client) { connection in
                var start = 0
                while start < entries.count {
                    let chunk = entries[start..<min(entries.count, start + Self.rowsPerInsert)]
                    try await connection.query(Self.insertQuery(chunk), logger: Self.silent)
                    start += chunk.count
                }
            }
        }
    }

    /// One `INSERT … ON CONFLICT DO NOTHING` of `entries` (rows already stored are ignored), the
    /// rows sent as one JSON array of their journal lines: the statement's text is the same for
    /// every batch and it has one parameter, where a `VALUES` list of 16 parameters a row made the
    /// server parse and plan a new statement for each batch size, the dearest part of its work.
    static func insertQuery(_ entries: ArraySlice<JournaledUsage>) -> PostgresQuery {
        var rows = ByteBuffer()
        rows.reserveCapacity(entries.count * 400)
        rows.writeStaticString("[")
        for (index, entry) in entries.enumerated() {
            if index > 0 { rows.writeStaticString(",") }
            var line = entry.line()
            // The line's newline ends the object; JSON takes it as whitespace, but not needed.
            if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\n") {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            rows.writeBuffer(&line)
        }
        rows.writeStaticString("]")
        var binds = PostgresBindings(capacity: 1)
        binds.append(String(buffer: rows))
        return PostgresQuery(unsafeSQL: insertStatement, binds: binds)
    }

    /// The insert of ``insertQuery(_:)``: the journal lines' fields, named as they are written.
    static let insertStatement = """
        INSERT INTO usage (
            journal_token, journal_sequence, time, request_id, key_name, endpoint, route, provider, model,
            prompt_tokens, completion_tokens, cost_usd, latency_seconds, ttft_seconds, status, attempts, path
        )
        SELECT token, seq, time, request_id, key_name, endpoint, route, provider, model,
            prompt_tokens, completion_tokens, cost_usd, latency_seconds, ttft_seconds, status, attempts, path
        FROM json_to_recordset($1::json) AS line(
            token BIGINT, seq BIGINT, time DOUBLE PRECISION, request_id TEXT, key_name TEXT, endpoint TEXT, route TEXT,
            provider TEXT, model TEXT, prompt_tokens BIGINT, completion_tokens BIGINT, cost_usd DOUBLE PRECISION,
            latency_seconds DOUBLE PRECISION, ttft_seconds DOUBLE PRECISION, status INTEGER, attempts INTEGER, path TEXT
        )
        ON CONFLICT (journal_token, journal_sequence) DO NOTHING
        """

    func usageSummary(since: Date, groupColumn: String) async throws -> [UsageSummaryRow] {
        let column = groupColumn == "NULL" ? "NULL::text" : groupColumn
        let start = since.timeIntervalSince1970
        return try await bounded { [client] in
            try await client.withConnection { connection in
                var medians: [String?: Double] = [:]
                let ranked = try await connection.query(
                    """
                    SELECT grp, latency_seconds FROM (
                        SELECT \(unescaped: column) AS grp, latency_seconds,
                            ROW_NUMBER() OVER (PARTITION BY \(unescaped: column) ORDER BY latency_seconds) AS position,
                            COUNT(*) OVER (PARTITION BY \(unescaped: column)) AS size
                        FROM usage WHERE time >= \(start)
                    ) ranked WHERE position = (size + 1) / 2
                    """,
                    logger: Self.silent
                )
                for try await (group, latency) in ranked.decode((String?, Double).self) {
                    medians[group] = latency
                }
                var rows: [UsageSummaryRow] = []
                let summary = try await connection.query(
                    """
                    SELECT \(unescaped: column) AS grp, COUNT(*), COALESCE(SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), 0),
                        COALESCE(SUM(prompt_tokens), 0)::BIGINT, COALESCE(SUM(completion_tokens), 0)::BIGINT,
                        COALESCE(SUM(cost_usd), 0)::DOUBLE PRECISION, AVG(latency_seconds)::DOUBLE PRECISION, MAX(latency_seconds)
                    FROM usage WHERE time >= \(start)
                    GROUP BY grp ORDER BY COALESCE(SUM(cost_usd), 0) DESC, COUNT(*) DESC, grp NULLS FIRST
                    """,
                    logger: Self.silent
                )
                for try await (group, requests, errors, prompt, completion, cost, mean, maximum) in summary.decode(
                    (String?, Int, Int, Int, Int, Double, Double?, Double?).self
                ) {
                    rows.append(
                        UsageSummaryRow(
                            group: group,
                            requests: requests,
                            errors: errors,
                            promptTokens: prompt,
                            completionTokens: completion,
                            costUSD: cost,
                            meanLatencySeconds: mean ?? 0,
                            medianLatencySeconds: medians[group] ?? 0,
                            maxLatencySeconds: maximum ?? 0
                        )
                    )
                }
                return rows
            }
        }
    }

    func spend(keyName: String, since: Date) async throws -> Double {
        let start = since.timeIntervalSince1970
        return try await bounded { [client] in
            for try await value in try await client.query(
                "SELECT COALESCE(SUM(cost_usd), 0)::DOUBLE PRECISION FROM usage WHERE key_name = \(keyName) AND time >= \(start)",
                logger: Self.silent
            ).decode(Double.self) {
                return value
            }
            return 0
        }
    }

    func spendByKey(since: Date) async throws -> [String: Double] {
        let start = since.timeIntervalSince1970
        return try await bounded { [client] in
            var spend: [String: Double] = [:]
            for try await (name, cost) in try await client.query(
                """
                SELECT key_name, SUM(cost_usd)::DOUBLE PRECISION FROM usage
                WHERE time >= \(start) AND key_name IS NOT NULL GROUP BY key_name
                """,
                logger: Self.silent
            ).decode((String, Double).self) {
                spend[name] = cost
            }
            return spend
        }
    }

    func close() async {
        runner.cancel()
        await runner.value
    }
}

/// A storage call took longer than its bound (the server does not answer).
struct StorageTimeout: Error, CustomStringConvertible {
    /// The bound.
    var after: Duration

    var description: String { "no answer from the database within \(after)" }
}
