import Foundation
import Testing

@testable import MultiProdigyAccounting

/// The real gateway is killed with SIGKILL right after answering: every request whose answer the
/// client received has its ledger row when the database is opened again.
@Suite(.serialized) struct GatewayKillTests {
    @Test func everyAnsweredRequestSurvivesKillNine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = directory.appendingPathComponent("gateway.db").path
        let upstream = FakeUpstream(
            .byStreamFlag(
                streaming: FakeBehaviourBox(.stream(events: FakeUpstream.stream(["Hi", "!"]) + [FakeUpstream.usageChunk()])),
                plain: FakeBehaviourBox(.respond(status: .ok, body: FakeUpstream.completion()))
            )
        )
        let yaml = { @Sendable (upstreamPort: Int) in
            """
            storage: sqlite:\(storage)
            providers:
              fake: {type: openai, base_url: "http://127.0.0.1:\(upstreamPort)/v1", locality: local}
            models:
              small: {provider: fake}
            """
        }
        try await withServingGatewayProcess(upstream: upstream, yaml: yaml) { gateway, client in
            let answered = try await withThrowingTaskGroup(of: GatewayClient.Reply.self) { group in
                for index in 0..<40 { group.addTask { try await client.chat("small", stream: index % 4 == 0) } }
                return try await group.reduce(into: [GatewayClient.Reply]()) { $0.append($1) }
            }
            // Killed the moment the last answer is in: no graceful shutdown, no final commit.
            kill(gateway.process.processIdentifier, SIGKILL)
            _ = await gateway.waitForExit(timeout: .seconds(10))
            #expect(answered.allSatisfy { $0.status == 200 })
            #expect(answered.filter { $0.events.last == "[DONE]" }.count == 10)
            let expected = Set(answered.compactMap { $0.headers.first(name: "x-multiprodigy-request-id") })
            #expect(expected.count == 40)

            let database = try await GatewayDatabase.open(path: storage)
            let stored = try await database.sqlitePool!.read { db in
                try String.fetchAll(db, sql: "SELECT request_id FROM usage WHERE status = 200")
            }
            #expect(expected.isSubset(of: Set(stored)), "lost: \(expected.subtracting(stored).sorted())")
            let streamedTokens = try await database.sqlitePool!.read { db in
                try Int.fetchOne(db, sql: "SELECT SUM(completion_tokens) FROM usage WHERE ttft_seconds IS NOT NULL")
            }
            #expect(streamedTokens == 20, "each of the 10 streams reported 2 completion tokens")
        }
    }
}
