import Foundation
import Logging
import TestFixtures
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyJSON

/// `multiprodigy keys …` and `multiprodigy usage`, run as the built executable against a temporary database.
@Suite struct AccountingCommandTests {
    /// Runs the executable to its end, waiting without blocking a thread of the shared pool (other suites' timers need them).
    private func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let command = GatewayProcess(arguments: arguments)
        try ProcessLaunch.run(command.process)
        let status = await command.waitForExit(timeout: .seconds(60))
        return (status ?? -1, command.log)
    }

    private func temporaryStorage() -> String {
        "sqlite:" + FileManager.default.temporaryDirectory.appendingPathComponent("mp-cli-\(UUID().uuidString)/gateway.db").path
    }

    @Test func keysCreateListRevokeThroughTheCommandLine() async throws {
        let storage = temporaryStorage()
        let created = try await run([
            "keys", "create", "--storage", storage, "--name", "team-a", "--budget", "50usd/month", "--rpm", "600", "--tpm", "200000",
            "--routes", "auto,cheap", "--privacy", "local",
        ])
        #expect(created.status == 0, "\(created.output)")
        #expect(created.output.contains("Store it now: it will not be shown again"))
        let secret = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("    mp-") }).trimmingCharacters(
            in: .whitespaces
        )
        #expect(secret.count == 46)
        for setting in ["name: team-a", "budget: 50usd/month", "rpm: 600", "tpm: 200000", "routes: auto,cheap", "privacy: local"] {
            #expect(created.output.contains(setting), "\(setting)")
        }

        let database = try await GatewayDatabase.open(storage: storage)
        let key = try #require(try await KeyStore(database: database).find(secret: secret))
        #expect(key.name == "team-a" && key.budget == KeyBudget(amountUSD: 50, period: .month) && key.routes == ["auto", "cheap"])

        let duplicate = try await run(["keys", "create", "--storage", storage, "--name", "team-a"])
        #expect(duplicate.status == 1)
        #expect(duplicate.output.contains("error: a key named 'team-a' already exists"))

        let listed = try await run(["keys", "list", "--storage", storage])
        #expect(listed.status == 0)
        let lines = listed.output.split(separator: "\n")
        #expect(lines.first?.hasPrefix("id") == true && lines.first?.contains("prefix") == true)
        #expect(lines.count == 2 && lines[1].contains(key.id) && lines[1].contains(key.prefix) && lines[1].contains("50usd/month"))
        #expect(!listed.output.contains(secret))

        let revoked = try await run(["keys", "revoke", "--storage", storage, "team-a"])
        #expect(revoked.status == 0)
        #expect(revoked.output.contains("Revoked key 'team-a' (\(key.id)"))
        let empty = try await run(["keys", "list", "--storage", storage])
        #expect(empty.output.contains("No keys."))
        let all = try await run(["keys", "list", "--storage", storage, "--all", "--json"])
        let json = try JSONValue.parse(all.output)
        #expect(json.arrayValue?.count == 1)
        #expect(json.arrayValue?.first?["revoked_at"]?.stringValue != nil)
        #expect(json.arrayValue?.first?["budget"]?.stringValue == "50usd/month")
        #expect(!all.output.contains(secret))
        #expect(try await KeyStore(database: database).find(secret: secret)?.isRevoked == true)

        let again = try await run(["keys", "revoke", "--storage", storage, "team-a"])
        #expect(again.status == 1 && again.output.contains("already revoked"))
    }

    @Test func badKeySettingsAreRefusedBeforeTouchingTheDatabase() async throws {
        let storage = temporaryStorage()
        let budget = try await run(["keys", "create", "--storage", storage, "--name", "a", "--budget", "50eur"])
        #expect(budget.status != 0)
        #expect(budget.output.contains("budget '50eur' is not an amount in USD"))
        let privacy = try await run(["keys", "create", "--storage", storage, "--name", "a", "--privacy", "cloud"])
        #expect(privacy.status != 0 && privacy.output.contains("the only value is 'local'"))
        // Nothing listens on port 1: the command says so at once, without the password.
        let postgres = try await run(["keys", "list", "--storage", "postgres://user:secret-canary-7f3a@127.0.0.1:1/gateway"])
        #expect(postgres.status == 2)
        #expect(
            postgres.output.contains("storage: cannot use the PostgreSQL database postgres://user@127.0.0.1:1/gateway"),
            "\(postgres.output)"
        )
        #expect(!postgres.output.contains("secret-canary-7f3a"))
    }

    @Test func usagePrintsATableByGroupWithATotal() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-cli-\(UUID().uuidString)")
        let configPath = try temporaryFile("storage: sqlite:\(directory.path)/usage.db\n")
        defer { try? FileManager.default.removeItem(atPath: configPath) }
        let database = try await GatewayDatabase.open(path: directory.appendingPathComponent("usage.db").path)
        let ledger = try UsageLedger(database: database, logger: Logger(label: "test"))
        let now = Date()
        ledger.record(Fixtures.usageRow("r1", tokens: (100, 20), cost: 0.25, latency: 0.25, at: now))
        ledger.record(Fixtures.usageRow("r2", tokens: (50, 10), cost: 0.5, latency: 0.75, status: 429, at: now))
        ledger.record(Fixtures.usageRow("r3", key: nil, model: "big", tokens: (7, 3), cost: 1, latency: 2, at: now))
        ledger.record(Fixtures.usageRow("old", cost: 9, at: now.addingTimeInterval(-2 * 86_400)))
        // Not flushed: `usage` loads the live journal itself.

        let byKey = try await run(["usage", "--config", configPath])
        #expect(byKey.status == 0, "\(byKey.output)")
        let lines = byKey.output.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines.first?.hasPrefix("Usage since ") == true)
        #expect(
            Array(lines.dropFirst()) == [
                "key requests errors prompt_tokens completion_tokens cost_usd p50_ms avg_ms max_ms",
                "(no key) 1 0 7 3 1.000000 2000 2000 2000",
                "team-a 2 1 150 30 0.750000 250 500 750",
                "total 3 1 157 33 1.750000 750 1000 2000",
            ]
        )

        let week = try await run(["usage", "--config", configPath, "--since", "7d", "--by", "model", "--json"])
        #expect(week.status == 0, "\(week.output)")
        let json = try JSONValue.parse(week.output)
        #expect(json["by"]?.stringValue == "model")
        #expect(json["groups"]?.arrayValue?.map { $0["group"]?.stringValue } == ["small", "big"])
        #expect(json["total"]?["requests"]?.intValue == 4)
        #expect(json["total"]?["cost_usd"]?.doubleValue == 10.75)

        let bad = try await run(["usage", "--config", configPath, "--since", "yesterday"])
        #expect(bad.status != 0 && bad.output.contains("--since 'yesterday' is neither a duration"))
        let badGroup = try await run(["usage", "--config", configPath, "--by", "team"])
        #expect(badGroup.status != 0 && badGroup.output.contains("--by 'team' is not one of key, model, provider, route"))
        withExtendedLifetime(ledger) {}
    }

    @Test func sinceAcceptsDurationsAndDates() async {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        #expect(UsageReport.since(parsing: "24h", now: now) == now.addingTimeInterval(-86_400))
        #expect(UsageReport.since(parsing: "30m", now: now) == now.addingTimeInterval(-1_800))
        #expect(UsageReport.since(parsing: "7d", now: now) == now.addingTimeInterval(-604_800))
        #expect(UsageReport.since(parsing: "2w", now: now) == now.addingTimeInterval(-1_209_600))
        #expect(UsageReport.since(parsing: "2025-06-01", now: now) == Date(timeIntervalSince1970: 1_748_736_000))
        #expect(UsageReport.since(parsing: "2025-06-01T12:00:00Z", now: now) == Date(timeIntervalSince1970: 1_748_779_200))
        #expect(UsageReport.since(parsing: "yesterday", now: now) == nil)
        #expect(UsageReport.since(parsing: "-5h", now: now) == nil)
        #expect(UsageReport.since(parsing: "h", now: now) == nil)
    }

    @Test func storageSettingsParse() async throws {
        #expect(try StorageLocation(parsing: "sqlite:./data/x.db", workingDirectory: "/srv") == .sqlite(path: "/srv/data/x.db"))
        #expect(try StorageLocation(parsing: "sqlite:///var/lib/x.db", workingDirectory: "/srv") == .sqlite(path: "/var/lib/x.db"))
        #expect(try StorageLocation(parsing: "x.db", workingDirectory: "/srv") == .sqlite(path: "/srv/x.db"))
        #expect(try StorageLocation(parsing: "/tmp/y.db") == .sqlite(path: "/tmp/y.db"))
        #expect(try StorageLocation(parsing: "postgresql://u:p@h/db").description == "postgres://u@h:5432/db?sslmode=prefer")
        for (storage, problem) in [
            ("mysql://h/db", "storage: 'mysql' is not a known kind of storage"),
            ("sqlite:", "storage: no database file is named"),
            ("sqlite::memory:", "storage: an in-memory database would lose"),
        ] {
            let error = #expect(throws: StorageError.self) { try StorageLocation(parsing: storage) }
            #expect(error?.problem.hasPrefix(problem) == true, "\(error?.problem ?? "")")
        }
    }

    @Test func aRunningGatewaySeesKeysTheCommandLineCreatesAndRevokes() async throws {
        let storage = temporaryStorage()
        let yaml = """
            auth: {master_key: master}
            storage: \(storage)
            providers:
            \(fakeProvider("local", index: 0))
            models:
              small: {provider: local}
            """
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
            let created = try await run(["keys", "create", "--storage", storage, "--name", "from-cli", "--json"])
            #expect(created.status == 0, "\(created.output)")
            let json = try JSONValue.parse(String(created.output.drop { $0 != "{" }))
            let secret = try #require(json["secret"]?.stringValue)
            let headers = [("authorization", "Bearer \(secret)")]
            let body = #"{"model":"small","messages":[{"role":"user","content":"hi"}]}"#
            // Another process wrote the key: the gateway notices within a quarter of a second.
            var status = 0
            for _ in 0..<40 where status != 200 {
                status = try await gateway.send(body: body, headers: headers).status
                if status != 200 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(status == 200)
            #expect(try await run(["keys", "revoke", "--storage", storage, "from-cli"]).status == 0)
            for _ in 0..<40 where status != 401 {
                status = try await gateway.send(body: body, headers: headers).status
                if status != 401 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(status == 401, "a revoked key stops working")
        }
    }
}
