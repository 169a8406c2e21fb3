import Foundation
import Logging
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyConfig
@testable import MultiProdigyServer

/// `storage.responses_retention` on a running gateway: responses stored through `POST /v1/responses`
/// that pass the retention are gone from `GET /v1/responses/{id}` after the sweep at start or the next
/// periodic one, younger ones stay, and `off` keeps them all. Responses are aged by moving their
/// `created_at` back in the database file, as time would.
@Suite struct ResponseRetentionEndToEndTests {
    static let master = "test-master-key"
    static let masterHeader = [("authorization", "Bearer \(master)")]

    /// A fresh database file's path; `body` runs with it, and its files are removed afterwards.
    private static func withDatabaseFile<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mp-retention-\(UUID().uuidString).db").path
        defer {
            for suffix in ["", "-wal", "-shm", "-usage-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        return try await body(path)
    }

    /// Runs a gateway on the database at `path` with `responses_retention: retention` in front of a fake
    /// upstream that answers every request; it stops, and closes the database, when `body` returns.
    private static func withGateway<T: Sendable>(
        database path: String,
        retention: String,
        sweepInterval: Duration = ResponseRetentionService.defaultInterval,
        logger: Logger? = nil,
        _ body: (GatewayClient) async throws -> T
    ) async throws -> T {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion(content: "Paris is in France.")))
        return try await withService({ onPort in try await upstream.run(onPort: onPort) }) { upstreamPort in
            let yaml = """
                auth: {master_key: \(master)}
                storage:
                  url: "sqlite:\(path)"
                  responses_retention: \(retention)
                providers:
                \(fakeProvider("local", index: 0, options: "{responses_api: translate}").replacingOccurrences(of: "{PORT0}", with: String(upstreamPort)))
                models:
                  small: {provider: local, model: upstream-small}
                """
            let config = try ConfigLoader(environment: [:]).load(yaml: yaml, source: "test")
            var quiet = Logger(label: "gateway-under-test")
            quiet.logLevel = .critical
            var configured = Gateway(config: config, logger: logger ?? quiet)
            configured.runsHealthChecks = false
            configured.responsesSweepInterval = sweepInterval
            let gateway = configured
            return try await withService({ onPort in
                try await gateway.run(
                    gracefulShutdownSignals: [],
                    listenAddress: ListenAddress(host: "127.0.0.1", port: 0),
                    onListening: onPort
                )
            }) { port in
                try await body(GatewayClient(port: port))
            }
        }
    }

    /// Stores a response through the API; returns its id.
    private static func store(_ gateway: GatewayClient) async throws -> String {
        let reply = try await gateway.send(
            .POST,
            "/v1/responses",
            body: #"{"model":"small","input":"Where is Paris?"}"#,
            headers: masterHeader
        )
        #expect(reply.status == 200, "\(reply.body)")
        return try #require(reply.json["id"] as? String)
    }

    /// The status of `GET /v1/responses/{id}`: 200 while stored, 404 once deleted.
    private static func status(of id: String, on gateway: GatewayClient) async throws -> Int {
        try await gateway.send(.GET, "/v1/responses/\(id)", headers: masterHeader).status
    }

    /// Moves the response `id` back in time by `seconds`, through a second connection to the file,
    /// as `multiprodigy usage` opens it beside a running gateway.
    private static func age(_ id: String, by seconds: TimeInterval, database path: String) async throws {
        let database = try await GatewayDatabase.open(path: path)
        let changed = try await database.sqlitePool!.write { db in
            try db.execute(sql: "UPDATE stored_responses SET created_at = created_at - ? WHERE id = ?", arguments: [seconds, id])
            return db.changesCount
        }
        await database.close()
        #expect(changed == 1)
    }

    /// Polls until `GET /v1/responses/{id}` answers `status`, for at most 30 s; the caller's
    /// expectation then reports a failure.
    private static func wait(for status: Int, of id: String, on gateway: GatewayClient) async throws {
        for _ in 0..<600 {
            if try await Self.status(of: id, on: gateway) == status { return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func aResponsePastTheRetentionIsDeletedWhenTheGatewayStartsAndOffKeepsIt() async throws {
        try await Self.withDatabaseFile { path in
            let (old, recent) = try await Self.withGateway(database: path, retention: "off") { gateway in
                (try await Self.store(gateway), try await Self.store(gateway))
            }
            try await Self.age(old, by: 400 * 86_400, database: path)

            // `off`: no sweep, so a response older than any retention is still served.
            try await Self.withGateway(database: path, retention: "off") { gateway in
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await Self.status(of: old, on: gateway) == 200)
                #expect(try await Self.status(of: recent, on: gateway) == 200)
            }

            // The default 30 days, with sweeps an hour apart: only the sweep at start can delete it.
            try await Self.withGateway(database: path, retention: "30d") { gateway in
                try await Self.wait(for: 404, of: old, on: gateway)
                #expect(try await Self.status(of: old, on: gateway) == 404)
                #expect(try await Self.status(of: recent, on: gateway) == 200)
            }
        }
    }

    @Test func aResponseThatPassesTheRetentionWhileTheGatewayRunsIsDeletedByTheNextSweep() async throws {
        try await Self.withDatabaseFile { path in
            let logs = LogCapture()
            try await Self.withGateway(
                database: path,
                retention: "1m",
                sweepInterval: .milliseconds(100),
                logger: logs.logger(level: .info)
            ) {
                gateway in
                let old = try await Self.store(gateway)
                let recent = try await Self.store(gateway)
                // Several sweeps pass; both are younger than a minute.
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await Self.status(of: old, on: gateway) == 200)

                try await Self.age(old, by: 61, database: path)
                try await Self.wait(for: 404, of: old, on: gateway)
                #expect(try await Self.status(of: old, on: gateway) == 404)
                #expect(try await Self.status(of: recent, on: gateway) == 200)
                #expect(logs.text.contains("deleted 1 stored responses older than storage.responses_retention"), "\(logs.text)")
                let continued = try await gateway.send(
                    .POST,
                    "/v1/responses",
                    body: #"{"model":"small","previous_response_id":"\#(old)","input":"And Lyon?"}"#,
                    headers: Self.masterHeader
                )
                #expect(continued.status == 404, "an expired response cannot be continued")
            }
        }
    }
}
