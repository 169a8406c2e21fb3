import Foundation
import Testing

extension OneSuiteAtATime {
    /// The private PostgreSQL servers the shared-storage tests run against: real servers that keep data across an outage,
    /// come back after a crash, ask for the password and leave nothing behind.
    @Suite struct PostgresServerTests {
        @Test func rowsSurviveStopAndStartOnTheSamePortAndTheURLCarriesTheRolesPassword() async throws {
            let server = try await PostgresServer.start()
            defer { server.shutdown() }
            let url = try server.createDatabase("harness")
            #expect(url == "postgres://multiprodigy:\(server.password)@127.0.0.1:\(server.port)/harness?sslmode=disable")
            #expect(!server.password.isEmpty)

            // Over TCP with the URL's password, as the gateway connects: the role owns the database.
            #expect(try server.psql("SELECT current_user, current_database()", url: url) == "multiprodigy|harness")
            _ = try server.psql(
                "CREATE TABLE ledger (id integer PRIMARY KEY, model text); INSERT INTO ledger VALUES (1, 'gpt-4o-mini')",
                url: url
            )
            #expect(try server.psql("SELECT id, model FROM ledger", database: "harness") == "1|gpt-4o-mini")

            let port = server.port
            try await server.stop()
            #expect(!server.isRunning)
            #expect(throws: PostgresServerError.self) { try server.psql("SELECT 1", url: url) }

            try await server.start()
            #expect(server.port == port)
            #expect(try server.psql("SELECT id, model FROM ledger", url: url) == "1|gpt-4o-mini")
            #expect(try server.psql("SELECT count(*) FROM ledger", database: "harness") == "1")
        }

        @Test func aWrongPasswordIsRefused() async throws {
            let server = try await PostgresServer.start()
            defer { server.shutdown() }
            let url = try server.createDatabase("guarded")
            let wrong = url.replacingOccurrences(of: ":\(server.password)@", with: ":not-the-password@")
            #expect(wrong != url)
            let refusal = #expect(throws: PostgresServerError.self) { try server.psql("SELECT 1", url: wrong) }
            #expect(
                refusal?.description.contains("password authentication failed for user \"multiprodigy\"") == true,
                "\(String(describing: refusal))"
            )
            // No password at all is refused too: TCP never falls back to trust.
            let withoutPassword = url.replacingOccurrences(of: ":\(server.password)@", with: "@")
            #expect(throws: PostgresServerError.self) { try server.psql("SELECT 1", url: withoutPassword) }
            #expect(try server.psql("SELECT 1", url: url) == "1")
        }

        @Test func aKilledServerComesBackWithItsCommittedRows() async throws {
            let server = try await PostgresServer.start()
            defer { server.shutdown() }
            let url = try server.createDatabase("crash")
            _ = try server.psql("CREATE TABLE t (n integer); INSERT INTO t SELECT generate_series(1, 1000)", url: url)
            let postmaster = try #require(server.processIdentifier)
            let children = PostgresServer.childProcesses(of: postmaster)
            #expect(!children.isEmpty, "a running server has a checkpointer, a WAL writer…")

            try await server.kill()
            #expect(!PostgresServer.isAlive(postmaster))
            #expect(children.allSatisfy { !PostgresServer.isAlive($0) })

            try await server.start()
            #expect(try server.psql("SELECT count(*), sum(n) FROM t", url: url) == "1000|500500")
            #expect(server.log.contains("database system was interrupted") || server.log.contains("not properly shut down"))
        }

        @Test func serversAreIndependentAndShutdownLeavesNoProcessNorFile() async throws {
            async let startingFirst = PostgresServer.start()
            async let startingSecond = PostgresServer.start()
            let (first, second) = try await (startingFirst, startingSecond)
            #expect(first.port != second.port && first.directory != second.directory)
            _ = try first.createDatabase("only_here")
            #expect(try second.psql("SELECT count(*) FROM pg_database WHERE datname = 'only_here'", database: "postgres") == "0")

            let postmaster = try #require(first.processIdentifier)
            first.shutdown()
            #expect(!PostgresServer.isAlive(postmaster))
            #expect(!FileManager.default.fileExists(atPath: first.directory.path))
            first.shutdown()  // a second call does nothing
            second.shutdown()
            #expect(!FileManager.default.fileExists(atPath: second.directory.path))
            await #expect(throws: PostgresServerError.self) { try await second.start() }
        }

        @Test func databaseNamesThatAreNotPlainIdentifiersAreRefused() async throws {
            let server = try await PostgresServer.start()
            defer { server.shutdown() }
            for name in ["", "Upper", "1st", "semi;colon", "quote\"d", String(repeating: "a", count: 64)] {
                #expect(throws: PostgresServerError.self, "\(name)") { try server.createDatabase(name) }
            }
            let error = #expect(throws: PostgresServerError.self) { try server.psql("SELECT * FROM missing", database: "postgres") }
            #expect(error?.description.contains("relation \"missing\" does not exist") == true)
        }
    }
}
