import MultiProdigyPrivacy
import Testing

@testable import MultiProdigyConfig

/// `storage:` as a URL or as a mapping with `on_unavailable` and `journal`, and the storage
/// password among the secrets the gateway scrubs.
@Suite struct StorageSettingsTests {
    private func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> GatewayConfig {
        try ConfigLoader(environment: environment, providerTypes: ProviderCatalog([:])).load(yaml: yaml, source: "test.yaml")
    }

    private func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try load(yaml)
            return []
        } catch {
            return error.issues
        }
    }

    @Test func aScalarIsTheURLWithDefaultSettings() throws {
        let config = try load("storage: sqlite:./x.db")
        #expect(config.storage == "sqlite:./x.db")
        #expect(config.storageSettings == StorageSettings())
        #expect(GatewayConfig().storageSettings.onUnavailable == .open)
    }

    @Test func aMappingTakesTheURLTheModeAndTheJournal() throws {
        let config = try load(
            """
            storage:
              url: postgres://gw:${PG_PASSWORD}@db:5432/ledger
              on_unavailable: closed
              journal: /var/lib/multiprodigy/journal
            """,
            environment: ["PG_PASSWORD": "correct-horse-battery-staple"]
        )
        #expect(config.storage == "postgres://gw:correct-horse-battery-staple@db:5432/ledger")
        #expect(config.storageSettings == StorageSettings(onUnavailable: .closed, journal: "/var/lib/multiprodigy/journal"))
    }

    @Test(arguments: [
        ("storage: {url: x.db, on_unavailable: maybe}", "storage.on_unavailable"),
        ("storage: {url: x.db, journal: \"\"}", "storage.journal"),
        ("storage: {url: x.db, journl: ./j}", "storage.journl"),
        ("storage: [x.db]", "storage"),
    ])
    func mistakesAreConfigIssuesAtTheirPath(yaml: String, path: String) {
        let found = issues(yaml)
        #expect(found.contains { $0.path == path }, "\(found)")
    }

    @Test(arguments: [
        ("postgres://gw:s3cret-canary-value@db/ledger", ["s3cret-canary-value"]),
        ("postgresql://gw:p%40ss-canary-value@db:5432/ledger?sslmode=require", ["p%40ss-canary-value", "p@ss-canary-value"]),
        ("postgres://gw@db/ledger?password=query-canary-value", ["query-canary-value"]),
        ("postgres://gw:sl/ash?mark#canary@db/ledger", ["sl/ash?mark#canary"]),
        ("postgres://gw@db/ledger", []),
        ("sqlite:./multiprodigy.db", []),
    ])
    func theStoragePasswordIsASecret(storage: String, expected: [String]) {
        #expect(SecretScrubber.storagePasswords(in: storage) == expected)
        let config = GatewayConfig(storage: storage)
        for password in expected { #expect(SecretScrubber.secrets(in: config).contains(password)) }
    }
}
