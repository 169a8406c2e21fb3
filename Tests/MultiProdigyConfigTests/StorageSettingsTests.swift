import MultiProdigyPrivacy
import Testing

@testable import MultiProdigyConfig

/// `storage:` as a URL or as a mapping with `on_unavailable`, `journal` and `responses_retention`,
/// and the storage password among the secrets the gateway scrubs.
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

    @Test func responsesAreKeptThirtyDaysUnlessTheMappingSaysOtherwise() throws {
        let thirtyDays = Duration.seconds(30 * 24 * 3600)
        #expect(GatewayConfig().storageSettings.responsesRetention == thirtyDays)
        #expect(try load("storage: sqlite:./x.db").storageSettings.responsesRetention == thirtyDays)
        #expect(try load("storage: {url: x.db, on_unavailable: closed}").storageSettings.responsesRetention == thirtyDays)
    }

    /// Retention texts and the retention each reads as; nil keeps responses.
    static let retentions: [(text: String, expected: Duration?)] = [
        ("30d", .seconds(30 * 86_400)),
        ("7d", .seconds(7 * 86_400)),
        ("12h", .seconds(12 * 3600)),
        ("90m", .seconds(90 * 60)),
        ("1m", .seconds(60)),
        ("366d", .seconds(366 * 86_400)),
        ("off", nil),
        ("OFF", nil),
        ("0", nil),
        ("0s", nil),
        ("0d", nil),
    ]

    @Test(arguments: retentions)
    func aRetentionIsADurationOrOff(text: String, expected: Duration?) throws {
        let config = try load(
            """
            storage:
              url: sqlite:./x.db
              responses_retention: \(text)
            """
        )
        #expect(config.storageSettings.responsesRetention == expected)
        #expect(config.storageSettings.onUnavailable == .open)
        #expect(config.storage == "sqlite:./x.db")
    }

    @Test(arguments: [
        ("30", "is not a duration"),
        ("thirty days", "is not a duration"),
        ("30x", "is not a duration"),
        ("-1d", "is not a duration"),
        ("367d", "is not a duration"),
        ("30s", "shorter than a minute"),
        ("59s", "shorter than a minute"),
        ("{days: 30}", "expected a single value"),
    ])
    func aBadRetentionIsAnIssueAtItsPathAndLine(text: String, problem: String) {
        let found = issues(
            """
            storage:
              url: sqlite:./x.db
              responses_retention: \(text)
            """
        )
        #expect(found.count == 1, "\(found)")
        let issue = found.first
        #expect(issue?.path == "storage.responses_retention")
        #expect(issue?.line == 3)
        #expect(issue?.problem.contains(problem) == true, "\(found)")
    }

    @Test func aMisspeltRetentionKeyIsNamedWithTheKeyItResembles() {
        let found = issues("storage: {url: x.db, response_retention: 30d}")
        let issue = found.first { $0.path == "storage.response_retention" }
        #expect(issue?.fix.contains("did you mean 'responses_retention'?") == true, "\(found)")
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
