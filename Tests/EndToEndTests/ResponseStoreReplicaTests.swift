import Foundation
import Testing

@testable import MultiProdigyAccounting

extension OneSuiteAtATime {
    /// Stored responses on a real PostgreSQL that two replicas share: what one saves the other reads,
    /// deletes and expires, each owner seeing only its own; a v2 database gains the table at open.
    @Suite struct ResponseStoreReplicaTests {
        static let created = Date(timeIntervalSince1970: 1_767_225_600)

        /// Runs `body` with a fresh server and database, and two databases opened at once on it, as two
        /// replicas starting together; `prepare` runs in the new database first, as its owner.
        private static func withReplicas(
            preparing prepare: String? = nil,
            _ body:
                @escaping @Sendable (_ postgres: PostgresServer, _ url: String, _ first: GatewayDatabase, _ second: GatewayDatabase)
                async throws
                -> Void
        ) async throws {
            let postgres = try await PostgresServer.start()
            defer { postgres.shutdown() }
            let url = try await blocking { try postgres.createDatabase("gateway") }
            if let prepare { _ = try await psql(prepare, on: postgres, url: url) }
            let journals = FileManager.default.temporaryDirectory.appendingPathComponent("mp-responses-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: journals) }
            async let opening = GatewayDatabase.open(storage: url, journal: journals.appendingPathComponent("a").path)
            async let openingSecond = GatewayDatabase.open(storage: url, journal: journals.appendingPathComponent("b").path)
            let (first, second) = try await (opening, openingSecond)
            do {
                try await body(postgres, url, first, second)
            } catch {
                await first.close()
                await second.close()
                throw error
            }
            await first.close()
            await second.close()
        }

        /// What `psql` prints for `sql`, run in the database at `url` as its owner.
        private static func psql(_ sql: String, on postgres: PostgresServer, url: String) async throws -> String {
            try await blocking { try postgres.psql(sql, url: url) }
        }

        /// psql blocks: on a Dispatch thread, not one of the cooperative pool's few.
        private static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
            }
        }

        static func row(_ id: String, owner: String, at time: Date = created, image: String = "") -> StoredResponse {
            StoredResponse(
                id: id,
                owner: owner,
                createdAt: time,
                model: "gpt-4o-mini",
                status: "completed",
                response: #"{"id":"\#(id)","object":"response","output_text":"Grüße 👋"}"#,
                inputItems: #"[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,\#(image)"}]}]"#,
                conversation: #"[{"role":"user","content":"Hi"},{"role":"assistant","content":"Grüße 👋"}]"#
            )
        }

        @Test func aResponseSavedThroughOneReplicaIsReadAndDeletedOnlyByItsOwnerThroughTheOther() async throws {
            try await Self.withReplicas { postgres, url, first, second in
                #expect(
                    try await Self.psql(
                        "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations",
                        on: postgres,
                        url: url
                    )
                        == "1,2,3,4"
                )
                // A 3 MB image, as base64, in one statement.
                let image = Data((0..<2_250_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).base64EncodedString()
                let row = Self.row("resp_1", owner: "key_a", image: image)
                try await first.responses.save(row)
                #expect(try await second.responses.response(id: "resp_1", owner: "key_a") == row)
                var partial = Self.row("resp_2", owner: "none")
                (partial.model, partial.status) = (nil, nil)
                try await second.responses.save(partial)
                #expect(try await first.responses.response(id: "resp_2", owner: "none") == partial)
                await #expect(throws: (any Error).self) { try await second.responses.save(Self.row("resp_1", owner: "key_b")) }

                for stranger in ["key_b", "master", "none", "KEY_A", ""] {
                    #expect(try await second.responses.response(id: "resp_1", owner: stranger) == nil, "\(stranger)")
                    #expect(try await second.responses.delete(id: "resp_1", owner: stranger) == false, "\(stranger)")
                }
                #expect(try await first.responses.response(id: "resp_1", owner: "key_a") == row)

                #expect(try await second.responses.delete(id: "resp_1", owner: "key_a"))
                #expect(try await first.responses.response(id: "resp_1", owner: "key_a") == nil)
                #expect(try await first.responses.delete(id: "resp_1", owner: "key_a") == false)
                #expect(first.health.snapshot.errors["responses"] == nil && second.health.snapshot.errors["responses"] == 1)
            }
        }

        @Test func retentionThroughOneReplicaExpiresWhatEveryReplicaSaved() async throws {
            try await Self.withReplicas { postgres, url, first, second in
                let old = ResponseStore.retentionBatch + 3
                for index in 0..<old {
                    try await (index % 2 == 0 ? first : second).responses.save(
                        Self.row("resp_old\(index)", owner: index % 3 == 0 ? "key_a" : "master")
                    )
                }
                let cutoff = Self.created.addingTimeInterval(86_400)
                try await first.responses.save(Self.row("resp_at_cutoff", owner: "key_a", at: cutoff))
                try await second.responses.save(Self.row("resp_new", owner: "master", at: cutoff.addingTimeInterval(1)))

                #expect(try await second.responses.deleteOlderThan(cutoff) == old)
                #expect(
                    try await Self.psql("SELECT string_agg(id, ',' ORDER BY id) FROM stored_responses", on: postgres, url: url)
                        == "resp_at_cutoff,resp_new"
                )
                #expect(try await first.responses.response(id: "resp_old0", owner: "key_a") == nil)
                #expect(try await first.responses.response(id: "resp_new", owner: "master") != nil)
                #expect(try await first.responses.deleteOlderThan(cutoff) == 0)
            }
        }

        @Test func aVersion2DatabaseGainsTheTableAtTwoOpensAtOnceAndKeepsItsKeys() async throws {
            var script = SchemaMigration.createTable + ";\n"
            for migration in [SchemaMigration.usageAndKeys, SchemaMigration.sharedLimits] {
                script += migration.postgres + ";\n"
                script +=
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(migration.version), '\(migration.name)', 0);\n"
            }
            script += """
                INSERT INTO keys (id, name, secret_hash, prefix, created_at)
                VALUES ('key_v2v2v2v2', 'team-a', '\(String(repeating: "0", count: 64))', 'mp-Ab3dE', 1750000000);
                """
            try await Self.withReplicas(preparing: script) { postgres, url, first, second in
                let migrations = try await Self.psql(
                    "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations",
                    on: postgres,
                    url: url
                )
                #expect(migrations == "1,2,3,4")
                #expect(try await KeyStore(database: second).list().map(\.id) == ["key_v2v2v2v2"])
                let row = Self.row("resp_1", owner: "key_v2v2v2v2")
                try await first.responses.save(row)
                #expect(try await second.responses.response(id: "resp_1", owner: "key_v2v2v2v2") == row)
            }
        }

        @Test func aStoppedServerFailsTheCallWithinItsBoundAndShowsInHealth() async throws {
            try await Self.withReplicas { postgres, _, first, second in
                try await first.responses.save(Self.row("resp_1", owner: "key_a"))
                try await postgres.stop()
                let began = ContinuousClock.now
                await #expect(throws: (any Error).self) { try await second.responses.response(id: "resp_1", owner: "key_a") }
                #expect(ContinuousClock.now - began < .seconds(20))
                #expect(!second.health.isAvailable)
                #expect(second.health.snapshot.errors == ["responses": 1])
                #expect(second.health.snapshot.lastError?.contains(postgres.password) == false)

                try await postgres.start()
                var read: StoredResponse?
                for _ in 0..<100 where read == nil {
                    read = try? await second.responses.response(id: "resp_1", owner: "key_a")
                    if read == nil { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(read?.id == "resp_1")
                #expect(second.health.isAvailable)
            }
        }
    }
}
