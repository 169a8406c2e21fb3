import Foundation
import Testing

@testable import MultiProdigyAccounting

/// A process that records usage rows is killed with SIGKILL; every row whose `record` had
/// returned must be in the database once it is reopened. The recording process is
/// `usage-ledger-probe` (Tests/UsageLedgerProbe), which prints `recorded N` after each row.
@Suite(.serialized) struct LedgerDurabilityTests {
    /// Starts the probe, waits until `ready` holds for its output, kills it with SIGKILL and
    /// returns how many rows it reported as recorded.
    private func recordThenKill(
        database path: String,
        count: Int,
        arguments: [String] = [],
        until ready: (String) -> Bool
    ) async throws -> Int {
        let probe = GatewayProcess(executable: "usage-ledger-probe", arguments: [path, String(count)] + arguments)
        try ProcessLaunch.run(probe.process)
        let deadline = ContinuousClock.now + .seconds(60)
        while !ready(probe.log), probe.process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        kill(probe.process.processIdentifier, SIGKILL)
        _ = await probe.waitForExit(timeout: .seconds(30))
        #expect(probe.process.terminationReason == .uncaughtSignal, "\(probe.log)")
        let recorded = probe.log.split(separator: "\n").compactMap { line in
            line.hasPrefix("recorded ") ? Int(line.dropFirst("recorded ".count)) : nil
        }
        return recorded.max() ?? 0
    }

    private func requestIDs(in database: GatewayDatabase) throws -> Set<String> {
        try database.sqlitePool!.read { db in Set(try String.fetchAll(db, sql: "SELECT request_id FROM usage")) }
    }

    /// Three runs, killed after different numbers of rows, each while the writer commits back to back.
    @Test(arguments: [700, 2_000, 4_500])
    func killedWhileRecordingAndCommittingKeepsEveryReturnedRow(killAfter: Int) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mp-durability-\(UUID().uuidString)/gateway.db").path
        let recorded = try await recordThenKill(database: path, count: 50_000) { log in
            log.utf8.count >= killAfter * 14
        }
        #expect(recorded >= killAfter / 2)
        #expect(recorded < 50_000, "the probe finished before it was killed; the kill did not land mid-run")

        let reopened = try await GatewayDatabase.open(path: path)
        let stored = try requestIDs(in: reopened)
        let missing = (1...recorded).filter { !stored.contains("req_probe_\($0)") }
        #expect(missing.count == 0, "rows recorded but lost, such as \(missing.prefix(10))")
        #expect(stored.count <= recorded + 1)
        let journal = (try? FileManager.default.contentsOfDirectory(atPath: reopened.journal.directory)) ?? []
        #expect(journal.isEmpty, "\(journal)")
    }

    @Test func killedBeforeAnyCommitKeepsEveryRowInTheJournal() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mp-durability-\(UUID().uuidString)/gateway.db").path
        let recorded = try await recordThenKill(database: path, count: 500, arguments: ["--no-writer"]) { log in
            log.contains("done")
        }
        #expect(recorded == 500)
        let journalDirectory = path + "-usage-journal"
        #expect(try FileManager.default.contentsOfDirectory(atPath: journalDirectory).count == 1)

        let reopened = try await GatewayDatabase.open(path: path)
        #expect(try requestIDs(in: reopened) == Set((1...500).map { "req_probe_\($0)" }))
        #expect(try FileManager.default.contentsOfDirectory(atPath: journalDirectory).isEmpty)
        let ledger = try UsageLedger(database: reopened, logger: .init(label: "test"))
        #expect(abs(try await ledger.total(since: .distantPast).costUSD - 0.5) < 1e-9)
        #expect(abs((try await ledger.spend(since: .distantPast)["team-a"] ?? 0) - 0.25) < 1e-9)
    }
}
