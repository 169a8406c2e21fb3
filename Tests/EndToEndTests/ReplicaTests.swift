import Foundation
import Testing

extension OneSuiteAtATime {
    /// Several real gateway processes on one real PostgreSQL: migrations under concurrent starts, keys
    /// reaching every replica, no usage row lost to SIGKILL or to the database going away.
    @Suite(.serialized) struct ReplicaTests {
        /// Runs `body` with a fresh PostgreSQL server and database and a fake upstream answering every
        /// request with a small completion (2 answer tokens).
        private static func withDatabase<T: Sendable>(
            _ body: @escaping @Sendable (_ postgres: PostgresServer, _ url: String, _ upstreamPort: Int) async throws -> T
        ) async throws -> T {
            let postgres = try await PostgresServer.start()
            defer { postgres.shutdown() }
            // psql blocks: on a Dispatch thread, not one of the cooperative pool's few.
            let url = try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(with: Result { try postgres.createDatabase("gateway") }) }
            }
            let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
            return try await withService({ onPort in try await upstream.run(onPort: onPort) }) { upstreamPort in
                try await body(postgres, url, upstreamPort)
            }
        }

        @Test func threeReplicasStartingAtOnceOnAnEmptyDatabaseMigrateItOnce() async throws {
            try await Self.withDatabase { postgres, url, upstreamPort in
                let replicas = ReplicaSet(postgres: postgres, storage: url, upstreamPort: upstreamPort, count: 3)
                try await replicas.startAll()
                for index in 0..<3 { #expect(try await replicas.client(index).send(.GET, "/health").status == 200) }
                #expect(
                    try await replicas.query("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations") == "1,2,3,4"
                )
                #expect(try await replicas.query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'usage'") == "1")
                #expect(!replicas.logs.contains(postgres.password), "the database password reached a log")
            }
        }

        @Test func threeGatewaysStartingAtOnceOnOneNewSQLiteFileAllStart() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-sqlite-starts-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let configPath = try temporaryFile(
                """
                storage: sqlite:\(directory.path)/shared.db
                providers:
                  fake: {type: openai, base_url: "http://127.0.0.1:9/v1", locality: local}
                """
            )
            defer { try? FileManager.default.removeItem(atPath: configPath) }
            let gateways = (0..<3).map { _ in GatewayProcess(arguments: ["serve", "--config", configPath, "--listen", "127.0.0.1:0"]) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for gateway in gateways { group.addTask { try await gateway.startServing() } }
                try await group.waitForAll()
            }
            for gateway in gateways {
                #expect(try await GatewayClient(port: gateway.port).send(.GET, "/health").status == 200, "\(gateway.log)")
                #expect(!gateway.log.contains("already exists"))
            }
        }

        @Test func keysCreatedOrRevokedAnywhereWorkOrStopEverywhereWithinASecond() async throws {
            try await Self.withDatabase { postgres, url, upstreamPort in
                let replicas = ReplicaSet(postgres: postgres, storage: url, upstreamPort: upstreamPort, count: 3)
                try await replicas.startAll()
                let secret = try await replicas.createKey(through: 0, #"{"name":"team-a"}"#)
                let created = ContinuousClock.now
                for index in 1..<3 {
                    let status = try await Self.statusWithin(.seconds(1), since: created) {
                        try await replicas.chat(index, key: secret).status
                    }
                    #expect(status == 200, "replica \(index) did not accept a key created through replica 0 within 1 s")
                }

                // Revoked from the command line, as an operator would: every replica refuses it within 1 s.
                let revoked = try await ReplicaSet.runCommand(["keys", "revoke", "--storage", url, "team-a"])
                #expect(revoked.status == 0, "\(revoked.output)")
                let revokedAt = ContinuousClock.now
                for index in 0..<3 {
                    let status = try await Self.statusWithin(.seconds(1), since: revokedAt, until: 401) {
                        try await replicas.chat(index, key: secret).status
                    }
                    #expect(status == 401, "replica \(index) still accepted a key revoked 1 s ago")
                }
                // Each replica's directory kept the revoked key's identity: the refusal names it.
                for index in 0..<3 {
                    let refusal = try await replicas.chat(index, key: secret)
                    #expect(refusal.body.contains("The key 'team-a' (mp-") && refusal.body.contains("was revoked on"), "\(refusal.body)")
                }
                #expect(!revoked.output.contains(postgres.password) && !replicas.logs.contains(postgres.password))
            }
        }

        @Test func theDashboardOfOneReplicaShowsTheRequestsOfBothWithTheirPaths() async throws {
            try await Self.withDatabase { postgres, url, upstreamPort in
                let replicas = ReplicaSet(postgres: postgres, storage: url, upstreamPort: upstreamPort, count: 2)
                try await replicas.startAll()
                for index in [0, 1, 0] { #expect(try await replicas.chat(index, key: ReplicaSet.master).status == 200) }
                let client = GatewayClient(port: replicas.client(1).port, followsRedirects: false)
                let session = try await DashboardServerTests.logIn(client, master: ReplicaSet.master).session
                let cookie = ("cookie", "mp_session=\(session)")
                // Replica 0 commits its rows within its commit interval.
                var rows: [[String: Any]] = []
                for _ in 0..<150 {
                    let page = try await client.send(.GET, "/ui/api/requests?limit=10", headers: [cookie])
                    rows = page.json["rows"] as? [[String: Any]] ?? []
                    if rows.count == 3 { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(rows.count == 3)
                #expect(rows.allSatisfy { $0["path"] as? [String] == ["paid:ok"] && $0["status"] as? Int == 200 })
                let ids = rows.compactMap { $0["id"] as? Int }
                #expect(ids == ids.sorted(by: >), "newest first")
                let second = try await client.send(.GET, "/ui/api/requests?limit=2", headers: [cookie])
                let next = try #require(second.json["next"] as? Int)
                let rest = try await client.send(.GET, "/ui/api/requests?limit=2&before=\(next)", headers: [cookie])
                #expect((rest.json["rows"] as? [[String: Any]])?.count == 1)
                let overview = try await client.send(.GET, "/ui/api/overview?window=15m&model=paid", headers: [cookie])
                let totals = try #require(overview.json["totals"] as? [String: Any])
                #expect(totals["requests"] as? Int == 3)
                #expect(totals["completion_tokens"] as? Int == rows.reduce(0) { $0 + ($1["completion_tokens"] as? Int ?? 0) })
            }
        }

        @Test func aReplicaThatLostTheDatabaseCatchesUpOnKeysWhenItReturns() async throws {
            try await Self.withDatabase { postgres, url, upstreamPort in
                let replicas = ReplicaSet(postgres: postgres, storage: url, upstreamPort: upstreamPort, count: 2)
                try await replicas.startAll()
                let secret = try await replicas.createKey(through: 0, #"{"name":"team-b"}"#)
                #expect(try await Self.statusWithin(.seconds(1), since: .now) { try await replicas.chat(1, key: secret).status } == 200)
                // The database goes away: keys already known keep working everywhere.
                try await postgres.stop()
                #expect(try await replicas.chat(1, key: secret).status == 200)
                // The next key refresh (every 250 ms) finds the database gone; /ready says so and stays 200.
                var readyDuringOutage = try await replicas.client(1).send(.GET, "/ready")
                for _ in 0..<400 where (readyDuringOutage.json["storage"] as? [String: Any])?["state"] as? String != "unavailable" {
                    try await Task.sleep(for: .milliseconds(25))
                    readyDuringOutage = try await replicas.client(1).send(.GET, "/ready")
                }
                #expect(readyDuringOutage.status == 200)
                let storage = readyDuringOutage.json["storage"] as? [String: Any]
                #expect(storage?["engine"] as? String == "postgres")
                #expect(storage?["state"] as? String == "unavailable", "\(readyDuringOutage.body)")
                #expect(try await replicas.chat(1, key: secret).status == 200)
                // Revoked while replica 1 could not see it (straight in the database, as a CLI elsewhere would).
                try await postgres.start()
                _ = try await replicas.query(
                    "UPDATE keys SET revoked_at = extract(epoch from now()) WHERE name = 'team-b'; UPDATE counters SET value = value + 1 WHERE name = 'keys_version'"
                )
                let status = try await Self.statusWithin(.seconds(10), since: .now, until: 401) {
                    try await replicas.chat(1, key: secret).status
                }
                #expect(status == 401, "replica 1 did not catch up with a revocation made while it was cut off")
                let after = try await replicas.client(1).send(.GET, "/ready")
                #expect((after.json["storage"] as? [String: Any])?["state"] as? String == "available", "\(after.body)")
            }
        }

        @Test func aReplicaKilledDuringTrafficLosesNoAnsweredRequest() async throws {
            try await Self.withDatabase { postgres, url, upstreamPort in
                let replicas = ReplicaSet(postgres: postgres, storage: url, upstreamPort: upstreamPort, count: 3)
                try await replicas.startAll()
                let answered = Answered()
                let killed = Answered()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<6 {
                        group.addTask {
                            for round in 0..<34 {
                                // Replica 1 dies part-way; like a load balancer, the clients then leave it out.
                                let index = killed.count > 0 && (worker + round) % 3 == 1 ? 0 : (worker + round) % 3
                                guard
                                    let reply = try? await replicas.client(index).send(
                                        body: Self.chatBody,
                                        headers: ReplicaSet.masterHeader
                                    )
                                else { continue }
                                if reply.status == 200, let id = reply.headers.first(name: "x-multiprodigy-request-id") { answered.add(id) }
                            }
                        }
                    }
                    group.addTask {
                        try await waitFor { answered.count >= 80 }
                        killed.add("1")
                        await replicas.kill(1)
                    }
                    try await group.waitForAll()
                }
                #expect(answered.count >= 100)
                // Restarted with the same journal folder, the killed replica replays what it had not committed,
                // and removes the dead ledger's segments once their rows are in.
                let segmentsLeftByTheKill = Set((try? FileManager.default.contentsOfDirectory(atPath: replicas.journalDirectory(1))) ?? [])
                #expect(!segmentsLeftByTheKill.isEmpty, "SIGKILL left no journal segment")
                try await replicas.start(1)
                let afterRestart = Set((try? FileManager.default.contentsOfDirectory(atPath: replicas.journalDirectory(1))) ?? [])
                #expect(afterRestart.isDisjoint(with: segmentsLeftByTheKill), "the killed replica's segments were not replayed")
                let expected = answered.ids
                try await replicas.waitForQuery(
                    "SELECT count(*) >= \(expected.count) FROM usage WHERE request_id IN (\(expected.map { "'\($0)'" }.joined(separator: ",")))",
                    toPrint: "t"
                )
                let stored = try await replicas.query("SELECT request_id FROM usage").split(separator: "\n").map(String.init)
                #expect(Set(stored).isSuperset(of: expected), "lost: \(expected.subtracting(stored).count) of \(expected.count)")
                #expect(stored.count == Set(stored).count, "a request has more than one row")
            }
        }

        @Test func postgresAwayForTenSecondsFailsNoRequestAndLosesNoRow() async throws {
            try await Self.withDatabase { postgres, url, upstreamPort in
                let replicas = ReplicaSet(postgres: postgres, storage: url, upstreamPort: upstreamPort, count: 2)
                try await replicas.startAll()
                // Limits that never refuse, so that every request goes through the shared limits while the database is away.
                let secret = try await replicas.createKey(through: 0, #"{"name":"steady","budget":"100000usd/month","rpm":100000}"#)
                #expect(try await Self.statusWithin(.seconds(1), since: .now) { try await replicas.chat(1, key: secret).status } == 200)
                let answered = Answered()
                let failures = Answered()
                let outageOver = Answered()
                let outage = Task {
                    defer { outageOver.add("over") }
                    try await Task.sleep(for: .seconds(2))
                    try await postgres.stop()
                    try await Task.sleep(for: .seconds(10))
                    try await postgres.start()
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<2 {
                        group.addTask {
                            var round = 0
                            // Traffic for as long as the outage lasts, and a little after.
                            while outageOver.count == 0 || round < 10, round < 10_000 {
                                defer { round += 1 }
                                let reply = try await replicas.chat((worker + round) % 2, key: secret)
                                if reply.status == 200, let id = reply.headers.first(name: "x-multiprodigy-request-id") {
                                    answered.add(id)
                                } else {
                                    failures.add("\(reply.status) \(reply.body)")
                                }
                                try await Task.sleep(for: .milliseconds(20))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                try await outage.value
                #expect(failures.count == 0, "\(failures.ids.prefix(3))")
                #expect(answered.count > 50)
                let expected = answered.ids
                // The ledgers retry with a growing delay (at most 30 s between tries; 8 s after a 10 s outage).
                try await replicas.waitForQuery("SELECT count(*) >= \(expected.count) FROM usage WHERE status = 200", toPrint: "t")
                let stored = try await replicas.query("SELECT request_id FROM usage").split(separator: "\n").map(String.init)
                #expect(Set(stored).isSuperset(of: expected), "lost: \(expected.subtracting(stored).count) of \(expected.count)")
                #expect(stored.count == Set(stored).count, "a request has more than one row")
                let metrics = try await replicas.client(0).send(.GET, "/metrics")
                #expect(metrics.body.contains("multiprodigy_storage_errors_total{operation=\"usage\"}"), "\(metrics.body.prefix(200))")
                #expect(metrics.body.contains("multiprodigy_usage_journal_backlog_rows 0"))
                #expect(!replicas.logs.contains(postgres.password), "the database password reached a log")
            }
        }

        @Test func aBudgetForTenRequestsHoldsAcrossThreeReplicas() async throws {
            try await Self.withDatabase { postgres, url, upstreamPort in
                let replicas = ReplicaSet(postgres: postgres, storage: url, upstreamPort: upstreamPort, count: 3)
                try await replicas.startAll()
                // Each answer costs its 4 tokens at 1 USD each, exactly what it reserves: 40 USD is 10 requests.
                let secret = try await replicas.createKey(through: 0, #"{"name":"budgeted","budget":"40usd/month"}"#)
                try await Self.waitUntilEveryReplicaKnows(secret, replicas)
                let replies = try await withThrowingTaskGroup(of: GatewayClient.Reply.self) { group in
                    for index in 0..<60 { group.addTask { try await replicas.chat(index % 3, key: secret) } }
                    return try await group.reduce(into: [GatewayClient.Reply]()) { $0.append($1) }
                }
                let served = replies.filter { $0.status == 200 }.count
                let refused = replies.filter { $0.status == 429 && $0.error["code"] as? String == "budget_exceeded" }.count
                // The README's bound: one reservation beyond the budget, whatever the number of replicas.
                #expect(served <= 11, "served \(served) of a budget for 10")
                // Slices left on other replicas may refuse a few early, never admit more.
                #expect(served >= 8, "served only \(served) of a budget for 10")
                #expect(served + refused == 60, "\(replies.filter { $0.status != 200 && $0.status != 429 }.map(\.body).prefix(2))")
                // Every answer has its row, and the spend the replicas committed comes back to what the rows hold once
                // the idle slices are given back.
                try await replicas.waitForQuery(
                    "SELECT count(*) FROM usage WHERE key_name = 'budgeted' AND status = 200",
                    toPrint: String(served)
                )
                #expect(try await replicas.query("SELECT SUM(cost_usd) FROM usage WHERE key_name = 'budgeted'") == String(served * 4))
                // Every field came through the batch insert: the command line's report adds them up.
                let report = try await ReplicaSet.runCommand(["usage", "--storage", url, "--by", "key", "--json"])
                #expect(report.status == 0, "\(report.output)")
                let json = try JSONSerialization.jsonObject(with: Data(report.output.drop { $0 != "{" }.utf8)) as? [String: Any]
                let group = (json?["groups"] as? [[String: Any]])?.first { $0["group"] as? String == "budgeted" }
                #expect(group?["requests"] as? Int == served + (60 - served))
                #expect(group?["errors"] as? Int == 60 - served)
                #expect(group?["completion_tokens"] as? Int == served * 4)
                #expect(group?["cost_usd"] as? Double == Double(served * 4))
                #expect(!report.output.contains(postgres.password))
                let committed = try await replicas.waitForQuery("SELECT committed_usd FROM budget_leases", toPrint: String(served * 4))
                #expect(committed == String(served * 4), "the replicas still hold slices of the budget")
            }
        }

        @Test func aRequestsPerMinuteLimitHoldsAcrossThreeReplicas() async throws {
            try await Self.withDatabase { postgres, url, upstreamPort in
                let replicas = ReplicaSet(postgres: postgres, storage: url, upstreamPort: upstreamPort, count: 3)
                try await replicas.startAll()
                let secret = try await replicas.createKey(through: 0, #"{"name":"limited","rpm":30}"#)
                try await Self.waitUntilEveryReplicaKnows(secret, replicas)
                let replies = try await withThrowingTaskGroup(of: GatewayClient.Reply.self) { group in
                    for index in 0..<90 { group.addTask { try await replicas.chat(index % 3, key: secret) } }
                    return try await group.reduce(into: [GatewayClient.Reply]()) { $0.append($1) }
                }
                let admitted = replies.filter { $0.status == 200 }.count
                // A full bucket of 30 (plus what refills at one every 2 s while the burst lasts), within 10 %.
                #expect((27...33).contains(admitted), "admitted \(admitted) against a limit of 30 per minute")
                let refusals = replies.filter { $0.status == 429 }
                #expect(admitted + refusals.count == 90)
                for refusal in refusals {
                    #expect(refusal.error["code"] as? String == "rate_limit_exceeded")
                    // One request's worth comes back every 2 s: what a single gateway would answer.
                    let retryAfter = refusal.headers.first(name: "retry-after").flatMap(Int.init)
                    #expect(retryAfter.map { (1...2).contains($0) } == true, "Retry-After: \(String(describing: retryAfter))")
                }
            }
        }

        /// Waits until every replica accepts `secret` (listing the models spends nothing).
        private static func waitUntilEveryReplicaKnows(_ secret: String, _ replicas: ReplicaSet) async throws {
            for index in 0..<replicas.count {
                let status = try await statusWithin(.seconds(5), since: .now) {
                    try await replicas.client(index).send(.GET, "/v1/models", headers: [("authorization", "Bearer \(secret)")]).status
                }
                #expect(status == 200, "replica \(index) does not know the key")
            }
        }

        @Test func withOnUnavailableClosedALimitedKeyIsRefusedOnceItsSliceIsSpent() async throws {
            try await Self.withDatabase { postgres, url, upstreamPort in
                let replicas = ReplicaSet(
                    postgres: postgres,
                    storage: url,
                    upstreamPort: upstreamPort,
                    count: 1,
                    storageExtras: "  on_unavailable: closed"
                )
                try await replicas.startAll()
                // 100 a minute: slices of 2 requests, so the replica soon needs the database again.
                let secret = try await replicas.createKey(through: 0, #"{"name":"strict","rpm":100}"#)
                #expect(try await Self.statusWithin(.seconds(5), since: .now) { try await replicas.chat(0, key: secret).status } == 200)
                try await postgres.stop()
                var refusal: GatewayClient.Reply?
                for _ in 0..<20 {
                    let reply = try await replicas.chat(0, key: secret)
                    if reply.status != 200 {
                        refusal = reply
                        break
                    }
                }
                let refused = try #require(refusal, "the replica kept admitting a limited key without the database")
                #expect(refused.status == 503)
                #expect(refused.error["code"] as? String == "storage_unavailable", "\(refused.body)")
                #expect(refused.headers.first(name: "retry-after") != nil)
                // Requests without limits are still served.
                #expect(try await replicas.client(0).send(body: Self.chatBody, headers: ReplicaSet.masterHeader).status == 200)
                try await postgres.start()
                let status = try await Self.statusWithin(.seconds(20), since: .now) { try await replicas.chat(0, key: secret).status }
                #expect(status == 200, "the key was not served again once the database was back")
            }
        }

        static let chatBody = #"{"model":"paid","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"#

        /// Calls `attempt` until it returns `expected` or `limit` has passed since `start`; returns the last status.
        private static func statusWithin(
            _ limit: Duration,
            since start: ContinuousClock.Instant,
            until expected: Int = 200,
            _ attempt: () async throws -> Int
        ) async throws -> Int {
            var status = 0
            for _ in 0..<1000 {
                status = try await attempt()
                if status == expected || ContinuousClock.now - start >= limit { return status }
                try await Task.sleep(for: .milliseconds(25))
            }
            return status
        }
    }
}

/// Request ids (or failures) collected by concurrent workers.
final class Answered: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String] = []

    func add(_ value: String) { lock.withLock { values.append(value) } }
    var count: Int { lock.withLock { values.count } }
    var ids: Set<String> { lock.withLock { Set(values) } }
}
