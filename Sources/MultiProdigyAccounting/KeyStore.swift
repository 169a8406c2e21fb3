import Foundation
import GRDB
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import MultiProdigyCore

/// Creates, lists, revokes and finds virtual keys in the gateway's database.
///
/// A key's secret is returned once, by ``create(name:budget:requestsPerMinute:tokensPerMinute:routes:privacy:now:)``,
/// and never stored: the `keys` table holds its SHA-256 (hex) and its first characters. ``find(secret:)``
/// hashes what a client sent, looks the hash up, and compares it with the stored one in constant time.
///
/// The CLI and a running gateway may use the store at the same time: every change bumps a counter
/// (``changeCounter()``), which a gateway can poll cheaply to reload its ``KeyDirectory``.
///
/// ```swift
/// let store = KeyStore(database: try GatewayDatabase.open(storage: config.storage))
/// let (key, secret) = try store.create(name: "team-a", budget: KeyBudget(parsing: "50usd/month"))
/// print(secret)  // shown once
/// ```
public final class KeyStore: Sendable {
    /// Where keys are stored.
    public let database: GatewayDatabase

    /// A store over `database`.
    public init(database: GatewayDatabase) {
        self.database = database
    }

    /// Creates a key and returns it with its secret, which is not stored and cannot be shown again.
    ///
    /// - Parameters:
    ///   - name: unique among keys that are not revoked; letters, digits, `.`, `_` and `-`, at most 64.
    ///   - budget: what the key may spend per period; nil for no limit.
    ///   - requestsPerMinute: at least 1; nil for no limit.
    ///   - tokensPerMinute: at least 1; nil for no limit.
    ///   - routes: the routes, models or `provider/model` names the key may ask for; nil for all.
    ///   - privacy: `.local` to keep the key's requests on local targets; nil for no restriction.
    ///   - now: the creation time.
    /// - Throws: ``KeyStoreError`` for an invalid setting or a name in use.
    public func create(
        name: String,
        budget: KeyBudget? = nil,
        requestsPerMinute: Int? = nil,
        tokensPerMinute: Int? = nil,
        routes: [String]? = nil,
        privacy: Locality? = nil,
        now: Date = Date()
    ) throws -> (key: VirtualKey, secret: String) {
        try Self.validate(name: name)
        if let requestsPerMinute, requestsPerMinute < 1 {
            throw KeyStoreError(
                "requests per minute must be at least 1, not \(requestsPerMinute). Fix: give a positive number, or leave it out for no limit"
            )
        }
        if let tokensPerMinute, tokensPerMinute < 1 {
            throw KeyStoreError(
                "tokens per minute must be at least 1, not \(tokensPerMinute). Fix: give a positive number, or leave it out for no limit"
            )
        }
        if let budget, !(budget.amountUSD > 0 && budget.amountUSD.isFinite) {
            throw KeyStoreError(
                "a budget must be a positive amount of USD. Fix: write one such as 50usd/month, or leave it out for no limit"
            )
        }
        if privacy == .cloud {
            throw KeyStoreError(
                "privacy 'cloud' is not a restriction. Fix: use 'local' to keep the key's requests on local targets, or leave it out"
            )
        }
        let routes = try routes.map(Self.validate(routes:))
        let secret = KeySecret.generate()
        let hash = KeySecret.hex(KeySecret.hash(secret))
        var key = VirtualKey(
            id: KeySecret.generateIdentifier(),
            name: name,
            budget: budget,
            requestsPerMinute: requestsPerMinute,
            tokensPerMinute: tokensPerMinute,
            routes: routes,
            privacy: privacy,
            createdAt: now,
            prefix: String(secret.prefix(KeySecret.prefixLength))
        )
        try database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM keys WHERE name = ? AND revoked_at IS NULL", arguments: [name]) == true {
                throw KeyStoreError(
                    "a key named '\(name)' already exists. Fix: choose another name, or revoke it first (multiprodigy keys revoke \(name))"
                )
            }
            while try Bool.fetchOne(db, sql: "SELECT 1 FROM keys WHERE id = ?", arguments: [key.id]) == true {
                key.id = KeySecret.generateIdentifier()
            }
            try db.execute(
                sql: """
                    INSERT INTO keys (id, name, secret_hash, prefix, budget_usd, budget_period, requests_per_minute,
                        tokens_per_minute, routes, privacy, created_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
                    """,
                arguments: [
                    key.id, key.name, hash, key.prefix, budget?.amountUSD, budget?.period.rawValue, requestsPerMinute,
                    tokensPerMinute, try routes.map(Self.encode(routes:)), privacy?.rawValue, now.timeIntervalSince1970,
                ]
            )
            try Self.bumpChangeCounter(db)
            // Read back, so the key compares equal to what `list` and `find` return (times as stored).
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM keys WHERE id = ?", arguments: [key.id]) {
                key = try Self.key(from: row)
            }
        }
        return (key, secret)
    }

    /// The keys, oldest first; revoked ones only when `includingRevoked`.
    public func list(includingRevoked: Bool = false) throws -> [VirtualKey] {
        try database.pool.read { db in
            let filter = includingRevoked ? "" : "WHERE revoked_at IS NULL"
            return try Row.fetchAll(db, sql: "SELECT * FROM keys \(filter) ORDER BY created_at, id").map(Self.key(from:))
        }
    }

    /// Revokes the key with this id or name (the id wins when a name looks like an id).
    ///
    /// - Returns: the key, with ``VirtualKey/revokedAt`` set.
    /// - Throws: ``KeyStoreError`` when no valid key has that name or id.
    @discardableResult
    public func revoke(nameOrID: String, now: Date = Date()) throws -> VirtualKey {
        try database.pool.write { db in
            let row =
                try Row.fetchOne(db, sql: "SELECT * FROM keys WHERE id = ? AND revoked_at IS NULL", arguments: [nameOrID])
                ?? Row.fetchOne(db, sql: "SELECT * FROM keys WHERE name = ? AND revoked_at IS NULL", arguments: [nameOrID])
            guard let row else {
                let revoked = try Bool.fetchOne(
                    db,
                    sql: "SELECT 1 FROM keys WHERE id = ? OR name = ?",
                    arguments: [nameOrID, nameOrID]
                )
                if revoked == true {
                    throw KeyStoreError(
                        "the key '\(EchoedName.shortened(nameOrID))' is already revoked. Fix: nothing to do; 'multiprodigy keys list --all' shows it"
                    )
                }
                throw KeyStoreError(
                    "no key has the name or id '\(EchoedName.shortened(nameOrID))'. Fix: 'multiprodigy keys list' shows the keys",
                    isUnknownKey: true
                )
            }
            let id: String = row["id"]
            try db.execute(sql: "UPDATE keys SET revoked_at = ? WHERE id = ?", arguments: [now.timeIntervalSince1970, id])
            try Self.bumpChangeCounter(db)
            return try Self.key(from: Row.fetchOne(db, sql: "SELECT * FROM keys WHERE id = ?", arguments: [id]) ?? row)
        }
    }

    /// The key whose secret is `secret`, revoked or not (the caller rejects a revoked one); nil when none.
    ///
    /// Reads the database; on the request path prefer a ``KeyDirectory`` (``directory()``), reloaded
    /// when ``changeCounter()`` moves.
    public func find(secret: String) throws -> VirtualKey? {
        let hash = KeySecret.hash(secret)
        let hex = KeySecret.hex(hash)
        return try database.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM keys WHERE secret_hash = ?", arguments: [hex]) else {
                return nil
            }
            let stored: String = row["secret_hash"]
            guard ConstantTime.equals(Array(stored.utf8), Array(hex.utf8)) else { return nil }
            return try Self.key(from: row)
        }
    }

    /// Every key (revoked ones included) in memory, for lookups on the request path without SQLite.
    public func directory() throws -> KeyDirectory {
        try database.pool.read { db in
            let version = try Self.changeCounter(db)
            let entries = try Row.fetchAll(db, sql: "SELECT * FROM keys").map { row in
                (hash: row["secret_hash"] as String, key: try Self.key(from: row))
            }
            return KeyDirectory(entries: entries, version: version)
        }
    }

    /// A number that changes whenever any process creates or revokes a key.
    ///
    /// One indexed read; a gateway may poll it every second or so and reload its ``KeyDirectory`` when it moves.
    public func changeCounter() throws -> Int {
        try database.pool.read { db in try Self.changeCounter(db) }
    }

    private static func changeCounter(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT value FROM counters WHERE name = 'keys_version'") ?? 0
    }

    private static func bumpChangeCounter(_ db: Database) throws {
        try db.execute(sql: "UPDATE counters SET value = value + 1 WHERE name = 'keys_version'")
    }

    /// Checks a key name: letters, digits, `.`, `_`, `-`; 1 to 64 characters.
    public static func validate(name: String) throws(KeyStoreError) {
        guard !name.isEmpty else {
            throw KeyStoreError("a key needs a name. Fix: give one such as team-a")
        }
        guard name.count <= 64 else {
            throw KeyStoreError("the key name '\(EchoedName.shortened(name))' is longer than 64 characters. Fix: choose a shorter name")
        }
        guard
            name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) })
        else {
            throw KeyStoreError(
                "the key name '\(EchoedName.shortened(name))' may only hold letters, digits, '.', '_' and '-'. Fix: use a name such as team-a"
            )
        }
        // Metrics label requests with the master key `master` and those of an open gateway `none`.
        guard !reservedNames.contains(name.lowercased()) else {
            throw KeyStoreError("the key name '\(name)' is reserved for requests without a virtual key. Fix: choose another name")
        }
    }

    /// Names that label requests made without a virtual key.
    static let reservedNames: Set<String> = ["master", "none"]

    /// Trims the route names, drops repeats, and rejects an empty list or name.
    public static func validate(routes: [String]) throws(KeyStoreError) -> [String] {
        var result: [String] = []
        for route in routes.map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard !route.isEmpty else {
                throw KeyStoreError("a route name is empty. Fix: list names separated by commas, such as auto,cheap")
            }
            if !result.contains(route) { result.append(route) }
        }
        guard !result.isEmpty else {
            throw KeyStoreError("the list of routes is empty. Fix: name at least one route or model, or leave it out to allow all")
        }
        return result
    }

    private static func encode(routes: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(routes), as: UTF8.self)
    }

    /// A `keys` row as a key.
    private static func key(from row: Row) throws -> VirtualKey {
        let budget: KeyBudget? = (row["budget_usd"] as Double?).map { amount in
            KeyBudget(amountUSD: amount, period: (row["budget_period"] as String?).flatMap(BudgetPeriod.init(rawValue:)) ?? .total)
        }
        let routes = try (row["routes"] as String?).map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        return VirtualKey(
            id: row["id"],
            name: row["name"],
            budget: budget,
            requestsPerMinute: row["requests_per_minute"],
            tokensPerMinute: row["tokens_per_minute"],
            routes: routes,
            privacy: (row["privacy"] as String?).flatMap(Locality.init(rawValue:)),
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            revokedAt: (row["revoked_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            prefix: row["prefix"]
        )
    }
}
