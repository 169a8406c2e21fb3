import Foundation
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

/// Creates, lists, revokes and finds virtual keys in the gateway's database.
///
/// A key's secret is returned once, by ``create(name:budget:requestsPerMinute:tokensPerMinute:routes:privacy:now:)``,
/// and never stored: the `keys` table holds its SHA-256 (hex) and its first characters. ``find(secret:)``
/// hashes what a client sent, looks the hash up, and compares it with the stored one in constant time.
///
/// The CLI and running gateways (replicas, on PostgreSQL) may use the store at the same time: every
/// change bumps a counter (``changeCounter()``), which a gateway polls cheaply to reload its ``KeyDirectory``.
///
/// ```swift
/// let store = KeyStore(database: try await GatewayDatabase.open(storage: config.storage))
/// let (key, secret) = try await store.create(name: "team-a", budget: KeyBudget(parsing: "50usd/month"))
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
    ) async throws -> (key: VirtualKey, secret: String) {
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
        let key = VirtualKey(
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
        let row = try KeyRow(key: key, secretHash: KeySecret.hex(KeySecret.hash(secret)))
        // Read back, so the key compares equal to what `list` and `find` return (times as stored).
        let stored = try await database.run("keys") { engine in try await engine.insertKey(row) }
        return (try stored.key(), secret)
    }

    /// The keys, oldest first; revoked ones only when `includingRevoked`.
    public func list(includingRevoked: Bool = false) async throws -> [VirtualKey] {
        try await database.run("keys") { engine in try await engine.keyRows(includingRevoked: includingRevoked) }.map { try $0.key() }
    }

    /// Revokes the key with this id or name (the id wins when a name looks like an id).
    ///
    /// - Returns: the key, with ``VirtualKey/revokedAt`` set.
    /// - Throws: ``KeyStoreError`` when no valid key has that name or id.
    @discardableResult
    public func revoke(nameOrID: String, now: Date = Date()) async throws -> VirtualKey {
        let time = now.timeIntervalSince1970
        return try await database.run("keys") { engine in try await engine.revokeKey(nameOrID: nameOrID, at: time) }.key()
    }

    /// The key whose secret is `secret`, revoked or not (the caller rejects a revoked one); nil when none.
    ///
    /// Reads the database; on the request path prefer a ``KeyDirectory`` (``directory()``), reloaded
    /// when ``changeCounter()`` moves.
    public func find(secret: String) async throws -> VirtualKey? {
        let hex = KeySecret.hex(KeySecret.hash(secret))
        guard let row = try await database.run("keys", { engine in try await engine.keyRow(secretHash: hex) }),
            ConstantTime.equals(Array(row.secretHash.utf8), Array(hex.utf8))
        else { return nil }
        return try row.key()
    }

    /// Every key in memory (revoked ones by their identity), for lookups on the request path without the database.
    public func directory() async throws -> KeyDirectory {
        try await database.run("keys") { engine in try await engine.keyDirectory() }
    }

    /// A number that changes whenever any process creates or revokes a key.
    ///
    /// One indexed read; a gateway polls it several times a second and reloads its ``KeyDirectory`` when it moves.
    public func changeCounter() async throws -> Int {
        try await database.run("keys") { engine in try await engine.keysVersion() }
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
}
