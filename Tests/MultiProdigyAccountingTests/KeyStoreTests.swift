import Foundation
import GRDB
import Testing

@testable import MultiProdigyAccounting

/// Virtual keys at the store level: the secret is shown once and stored hashed; lifecycle and validation.
@Suite struct KeyStoreTests {
    static let created = Date(timeIntervalSince1970: 1_750_000_000)

    @Test func createFindListRevokeLifecycle() async throws {
        let store = KeyStore(database: try await GatewayDatabase.temporary())
        let version = try await store.changeCounter()
        let (key, secret) = try await store.create(
            name: "team-a",
            budget: KeyBudget(amountUSD: 50, period: .month),
            requestsPerMinute: 600,
            tokensPerMinute: 200_000,
            routes: ["auto", " cheap", "auto"],
            privacy: .local,
            now: Self.created
        )
        #expect(secret.hasPrefix("mp-") && secret.count == 46)
        #expect(secret.dropFirst(3).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(key.prefix == String(secret.prefix(8)))
        #expect(key.id.hasPrefix("key_") && key.id.count == 12)
        #expect(key.routes == ["auto", "cheap"])
        #expect(try await store.changeCounter() == version + 1)

        #expect(try await store.find(secret: secret) == key)
        #expect(try await store.find(secret: secret + "x") == nil)
        #expect(try await store.find(secret: "") == nil)
        #expect(try await store.list() == [key])

        // Neither the database nor any listing holds the secret.
        let stored = try store.database.sqlitePool!.read { db in try Row.fetchOne(db, sql: "SELECT * FROM keys")! }
        let hash: String = stored["secret_hash"]
        #expect(hash.count == 64 && hash != secret && !hash.contains(secret))
        #expect(!String(describing: stored).contains(secret))
        #expect(!key.json.text.contains(secret) && !key.details.contains(secret) && !VirtualKey.table([key]).contains(secret))

        let revoked = try await store.revoke(nameOrID: "team-a", now: Self.created.addingTimeInterval(60))
        #expect(revoked.revokedAt == Self.created.addingTimeInterval(60))
        #expect(try await store.find(secret: secret)?.isRevoked == true)
        #expect(try await store.list() == [])
        #expect(try await store.list(includingRevoked: true) == [revoked])
        #expect(try await store.changeCounter() == version + 2)
        await #expect(
            throws: KeyStoreError("the key 'team-a' is already revoked. Fix: nothing to do; 'multiprodigy keys list --all' shows it")
        ) {
            try await store.revoke(nameOrID: "team-a")
        }
        await #expect(
            throws: KeyStoreError("no key has the name or id 'team-b'. Fix: 'multiprodigy keys list' shows the keys", isUnknownKey: true)
        ) {
            try await store.revoke(nameOrID: "team-b")
        }
    }

    @Test func aNameIsUniqueAmongValidKeysAndFreeAgainOnceRevoked() async throws {
        let store = KeyStore(database: try await GatewayDatabase.temporary())
        let first = try await store.create(name: "team-a")
        await #expect(
            throws: KeyStoreError(
                "a key named 'team-a' already exists. Fix: choose another name, or revoke it first (multiprodigy keys revoke team-a)"
            )
        ) {
            try await store.create(name: "team-a")
        }
        try await store.revoke(nameOrID: first.key.id)
        let second = try await store.create(name: "team-a")
        #expect(second.key.id != first.key.id && second.secret != first.secret)
        #expect(try await store.find(secret: second.secret)?.isRevoked == false)
        #expect(try await store.find(secret: first.secret)?.isRevoked == true)
    }

    @Test func invalidSettingsAreRefusedWithAFix() async throws {
        let store = KeyStore(database: try await GatewayDatabase.temporary())
        let cases: [(String, @Sendable () async throws -> Void)] = [
            ("a key needs a name", { _ = try await store.create(name: "") }),
            ("may only hold letters, digits", { _ = try await store.create(name: "team a") }),
            ("may only hold letters, digits", { _ = try await store.create(name: "équipe") }),
            ("longer than 64 characters", { _ = try await store.create(name: String(repeating: "a", count: 65)) }),
            ("requests per minute must be at least 1", { _ = try await store.create(name: "a", requestsPerMinute: 0) }),
            ("tokens per minute must be at least 1", { _ = try await store.create(name: "a", tokensPerMinute: -5) }),
            ("a route name is empty", { _ = try await store.create(name: "a", routes: ["auto", ""]) }),
            ("the list of routes is empty", { _ = try await store.create(name: "a", routes: []) }),
            ("privacy 'cloud' is not a restriction", { _ = try await store.create(name: "a", privacy: .cloud) }),
            (
                "a budget must be a positive amount",
                { _ = try await store.create(name: "a", budget: KeyBudget(amountUSD: 0, period: .day)) }
            ),
        ]
        for (expected, attempt) in cases {
            let error = await #expect(throws: KeyStoreError.self) { try await attempt() }
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
            #expect(error?.message.contains("Fix:") == true)
        }
        _ = try await store.create(name: "Team_1.b-" + String(repeating: "x", count: 55))
        #expect(try await store.list().count == 1)
    }

    @Test func theDirectoryFindsKeysInMemoryAndTracksChanges() async throws {
        let store = KeyStore(database: try await GatewayDatabase.temporary())
        #expect(KeyDirectory().find(secret: "mp-x") == nil)
        let (key, secret) = try await store.create(name: "a")
        let directory = try await store.directory()
        #expect(directory.find(secret: secret) == key)
        #expect(directory.find(secret: "mp-nope") == nil)
        #expect(directory.version == (try await store.changeCounter()))

        // Another process (the CLI) revokes it: the counter moves and a new directory sees it.
        try await KeyStore(database: try await GatewayDatabase.open(path: store.database.path)).revoke(nameOrID: "a")
        #expect(try await store.changeCounter() != directory.version)
        #expect(try await store.directory().find(secret: secret)?.isRevoked == true)
    }

    /// A revoked key stays in the directory by its identity alone (its client is told which key was
    /// revoked and when), so that keys created and revoked all day do not keep their settings in
    /// memory; active keys are kept whole, and a name can be reused by a new key.
    @Test func theDirectoryKeepsOnlyTheIdentityOfARevokedKey() async throws {
        let store = KeyStore(database: try await GatewayDatabase.temporary())
        let (old, oldSecret) = try await store.create(
            name: "team-a",
            budget: KeyBudget(amountUSD: 5, period: .day),
            requestsPerMinute: 10,
            tokensPerMinute: 1000,
            routes: ["cheap"],
            privacy: .local,
            now: Self.created
        )
        let revoked = try await store.revoke(nameOrID: "team-a", now: Self.created.addingTimeInterval(60))
        let (new, newSecret) = try await store.create(name: "team-a", routes: ["auto"], now: Self.created.addingTimeInterval(120))
        let directory = try await store.directory()

        #expect(directory.counts == (active: 1, revoked: 1))
        #expect(directory.activeKeys == [new])
        #expect(directory.find(secret: newSecret) == new)
        let found = try #require(directory.find(secret: oldSecret))
        #expect(found == VirtualKey(id: old.id, name: "team-a", createdAt: old.createdAt, revokedAt: revoked.revokedAt, prefix: old.prefix))
        #expect(found.budget == nil && found.routes == nil && found.requestsPerMinute == nil && found.privacy == nil)
        // The store itself still has the revoked key's settings, for `keys list --all`.
        #expect(try await store.find(secret: oldSecret) == revoked)
        #expect(revoked.routes == ["cheap"])
    }

    /// The directory's lookup key: exactly 64 lowercase hex digits are a digest (as the store writes
    /// them, and as `find` matches them), anything else is not.
    @Test(arguments: [
        (String(repeating: "ab", count: 32), true),
        (String(repeating: "AB", count: 32), false),
        (String(repeating: "0", count: 64), true),
        (String(repeating: "a", count: 63), false),
        (String(repeating: "a", count: 65), false),
        (String(repeating: "a", count: 66), false),
        (String(repeating: "a", count: 62) + "g0", false),
        (String(repeating: "a", count: 62) + " 0", false),
        ("", false),
    ])
    func aSecretDigestIsSixtyFourHexDigits(hex: String, valid: Bool) {
        #expect((SecretDigest(hex: hex) != nil) == valid)
    }

    /// A digest read from its hex equals the digest of its bytes, and differs from one differing in any word.
    @Test func aSecretDigestFromHexEqualsTheDigestOfItsBytes() throws {
        let bytes = KeySecret.hash("mp-secret")
        #expect(SecretDigest(hex: KeySecret.hex(bytes)) == SecretDigest(bytes: bytes))
        for index in [0, 8, 16, 24, 31] {
            var changed = bytes
            changed[index] ^= 1
            #expect(SecretDigest(bytes: changed) != SecretDigest(bytes: bytes))
        }
    }

    @Test func theBudgetWindowStartsAtThePeriodOrAtCreation() async {
        let may20 = Date(timeIntervalSince1970: 1_747_699_200)  // 2025-05-20 00:00 UTC
        var key = VirtualKey(id: "key_1", name: "a", createdAt: may20, prefix: "mp-")
        let june10 = Date(timeIntervalSince1970: 1_749_513_600)  // 2025-06-10 00:00 UTC
        #expect(key.budgetWindowStart(at: june10) == nil)
        key.budget = KeyBudget(amountUSD: 5, period: .month)
        #expect(key.budgetWindowStart(at: june10) == Date(timeIntervalSince1970: 1_748_736_000))  // 2025-06-01
        key.budget = KeyBudget(amountUSD: 5, period: .total)
        #expect(key.budgetWindowStart(at: june10) == may20)
    }
}
