/// One versioned change of the gateway's schema, written once for each engine.
///
/// Both engines hold the same tables with the same columns (times are seconds since 1970, UTC, as
/// floating point), so `multiprodigy usage` and the keys read alike from either. Each engine
/// applies the migrations it lacks at open, in one transaction that first takes a lock held
/// until it commits (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction-scoped advisory lock),
/// then reads `schema_migrations` again: several gateways starting at once on an empty database
/// wait for each other instead of creating the same table twice.
///
/// Never edit a migration that has shipped; add the next one.
struct SchemaMigration: Sendable {
    /// Applied in increasing order; recorded in `schema_migrations`.
    var version: Int
    /// What it does, for people reading `schema_migrations`.
    var name: String
    /// The statements for SQLite.
    var sqlite: String
    /// The statements for PostgreSQL.
    var postgres: String

    /// Every migration, oldest first.
    static let all: [SchemaMigration] = [usageAndKeys, sharedLimits]

    /// The table that records applied migrations (the same on both engines).
    static let createTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at DOUBLE PRECISION NOT NULL
        )
        """

    /// The usage ledger (the journal pair is the idempotency key of a replay), the keys and the
    /// keys' change counter.
    static let usageAndKeys = SchemaMigration(
        version: 1,
        name: "usage and keys",
        sqlite: """
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
            """,
        postgres: """
            CREATE TABLE usage (
                id BIGSERIAL PRIMARY KEY,
                journal_token BIGINT NOT NULL,
                journal_sequence BIGINT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                request_id TEXT NOT NULL,
                key_name TEXT,
                endpoint TEXT NOT NULL,
                route TEXT NOT NULL,
                provider TEXT,
                model TEXT,
                prompt_tokens BIGINT NOT NULL,
                completion_tokens BIGINT NOT NULL,
                cost_usd DOUBLE PRECISION NOT NULL,
                latency_seconds DOUBLE PRECISION NOT NULL,
                ttft_seconds DOUBLE PRECISION,
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
                budget_usd DOUBLE PRECISION,
                budget_period TEXT,
                requests_per_minute BIGINT,
                tokens_per_minute BIGINT,
                routes TEXT,
                privacy TEXT,
                created_at DOUBLE PRECISION NOT NULL,
                revoked_at DOUBLE PRECISION
            );
            CREATE UNIQUE INDEX keys_active_name ON keys (name) WHERE revoked_at IS NULL;
            CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
            INSERT INTO counters (name, value) VALUES ('keys_version', 0);
            """
    )

    /// What replicas share of keys' limits: the budget leased out per key and period, and a token
    /// bucket per key and limit (`rpm`, `tpm`). One process on SQLite keeps these in memory; the
    /// tables exist there too so that both engines hold one schema.
    static let sharedLimits = SchemaMigration(
        version: 2,
        name: "shared budgets and rate limits",
        sqlite: """
            CREATE TABLE budget_leases (
                key_id TEXT NOT NULL,
                period_start REAL NOT NULL,
                committed_usd REAL NOT NULL,
                overdrawn INTEGER NOT NULL,
                PRIMARY KEY (key_id, period_start)
            );
            CREATE TABLE rate_buckets (
                key_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                balance REAL NOT NULL,
                refilled_at REAL NOT NULL,
                PRIMARY KEY (key_id, kind)
            );
            """,
        postgres: """
            CREATE TABLE budget_leases (
                key_id TEXT NOT NULL,
                period_start DOUBLE PRECISION NOT NULL,
                committed_usd DOUBLE PRECISION NOT NULL,
                overdrawn BOOLEAN NOT NULL,
                PRIMARY KEY (key_id, period_start)
            );
            CREATE TABLE rate_buckets (
                key_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                balance DOUBLE PRECISION NOT NULL,
                refilled_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (key_id, kind)
            );
            """
    )
}
