import Foundation
import Logging
import Synchronization
import Testing

@testable import MultiProdigyAccounting

/// The retention sweeps on a real SQLite database with a clock the test moves: responses older than
/// the retention go, younger ones stay, sweeps repeat at their interval, and a failing database is
/// counted in its health and logged, never ending the service.
@Suite struct ResponseRetentionServiceTests {
    static let start = Date(timeIntervalSince1970: 1_767_225_600)
    static let day: TimeInterval = 86_400

    /// A wall clock that moves only when the test moves it.
    final class TestClock: Sendable {
        private let date: Mutex<Date>
        init(_ date: Date) { self.date = Mutex(date) }
        var now: Date { date.withLock { $0 } }
        func advance(by seconds: TimeInterval) { date.withLock { $0.addTimeInterval(seconds) } }
    }

    /// Keeps every line logged, level and message, without metadata.
    final class LogLines: Sendable {
        private let lines = Mutex<[(level: Logger.Level, message: String, metadata: String)]>([])
        var all: [(level: Logger.Level, message: String, metadata: String)] { lines.withLock { $0 } }

        var logger: Logger {
            Logger(label: "retention-under-test") { _ in Handler(lines: self) }
        }

        struct Handler: LogHandler {
            let lines: LogLines
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                let metadata = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
                lines.lines.withLock { $0.append((event.level, "\(event.message)", metadata)) }
            }
        }
    }

    private static func save(_ id: String, ageInDays days: Double, in database: GatewayDatabase, clock: TestClock) async throws {
        try await database.responses.save(ResponseStoreTests.row(id, owner: "key_a", at: clock.now.addingTimeInterval(-days * day)))
    }

    private static func ids(in database: GatewayDatabase) async throws -> [String] {
        try await database.sqlitePool!.read { db in try String.fetchAll(db, sql: "SELECT id FROM stored_responses ORDER BY id") }
    }

    @Test func aSweepDeletesResponsesOlderThanTheRetentionAndKeepsYoungerOnes() async throws {
        let database = try await GatewayDatabase.temporary()
        let clock = TestClock(Self.start)
        let logs = LogLines()
        let service = ResponseRetentionService(
            database: database,
            retention: .seconds(30 * 86_400),
            interval: .seconds(3600),
            now: { clock.now },
            logger: logs.logger
        )
        try await Self.save("resp_a_year", ageInDays: 365, in: database, clock: clock)
        try await Self.save("resp_b_31_days", ageInDays: 31, in: database, clock: clock)
        try await Self.save("resp_c_30_days_less_a_minute", ageInDays: 30 - 1.0 / 1440, in: database, clock: clock)
        try await Self.save("resp_d_an_hour", ageInDays: 1.0 / 24, in: database, clock: clock)

        #expect(await service.sweep() == 2)
        #expect(try await Self.ids(in: database) == ["resp_c_30_days_less_a_minute", "resp_d_an_hour"])
        #expect(logs.all.map(\.level) == [.info])
        #expect(logs.all.first?.message == "deleted 2 stored responses older than storage.responses_retention")
        #expect(await service.sweep() == 0)
        #expect(logs.all.count == 1, "a sweep that deletes nothing logs nothing")

        // Two minutes later the third has passed 30 days; the fourth has not.
        clock.advance(by: 120)
        #expect(await service.sweep() == 1)
        #expect(try await Self.ids(in: database) == ["resp_d_an_hour"])
        #expect(database.health.snapshot.errors.isEmpty)
    }

    @Test func theServiceSweepsAtStartAndAgainAfterEachInterval() async throws {
        let database = try await GatewayDatabase.temporary()
        let clock = TestClock(Self.start)
        let service = ResponseRetentionService(
            database: database,
            retention: .seconds(86_400),
            interval: .milliseconds(50),
            now: { clock.now },
            logger: LogLines().logger
        )
        try await Self.save("resp_old", ageInDays: 2, in: database, clock: clock)
        try await Self.save("resp_new", ageInDays: 0.5, in: database, clock: clock)
        let running = Task { try await service.run() }
        defer { running.cancel() }

        try await Self.waitUntil { try await Self.ids(in: database) == ["resp_new"] }
        #expect(try await Self.ids(in: database) == ["resp_new"], "the sweep at start")

        // Saved while the service runs, already past the retention: a later sweep deletes it.
        try await Self.save("resp_old_later", ageInDays: 3, in: database, clock: clock)
        try await Self.waitUntil { try await Self.ids(in: database) == ["resp_new"] }
        #expect(try await Self.ids(in: database) == ["resp_new"], "a sweep after the interval")

        // A day on, the young response has passed the retention too.
        clock.advance(by: Self.day)
        try await Self.waitUntil { try await Self.ids(in: database).isEmpty }
        #expect(try await Self.ids(in: database).isEmpty)
        running.cancel()
        try await running.value
    }

    @Test func aBacklogLargerThanASweepIsCaughtUpSoonerThanTheInterval() async throws {
        let database = try await GatewayDatabase.temporary()
        let clock = TestClock(Self.start)
        // Three sweeps' worth when a sweep runs one statement; the interval is far longer than the test.
        let rows = ResponseStore.retentionBatch * 2 + 3
        try await database.sqlitePool!.write { db in
            for index in 0..<rows {
                try db.execute(
                    sql: "INSERT INTO stored_responses (\(StoredResponse.columns)) VALUES (?, 'key_a', ?, NULL, NULL, '{}', '[]', '[]')",
                    arguments: ["resp_\(index)", Self.start.timeIntervalSince1970 - 2 * Self.day]
                )
            }
        }
        let service = ResponseRetentionService(
            database: database,
            retention: .seconds(86_400),
            interval: .seconds(3600),
            catchUpInterval: .milliseconds(20),
            maxBatchesPerSweep: 1,
            now: { clock.now },
            logger: LogLines().logger
        )
        let running = Task { try await service.run() }
        defer { running.cancel() }
        try await Self.waitUntil { try await Self.ids(in: database).isEmpty }
        #expect(try await Self.ids(in: database).isEmpty)
    }

    @Test func aFailingDatabaseIsCountedAndLoggedAndTheNextSweepRecovers() async throws {
        let database = try await GatewayDatabase.temporary()
        let clock = TestClock(Self.start)
        let logs = LogLines()
        let service = ResponseRetentionService(
            database: database,
            retention: .seconds(86_400),
            interval: .milliseconds(30),
            now: { clock.now },
            logger: logs.logger
        )
        try await Self.save("resp_old", ageInDays: 2, in: database, clock: clock)
        try await database.sqlitePool!.write { db in try db.execute(sql: "ALTER TABLE stored_responses RENAME TO away") }

        #expect(await service.sweep() == nil)
        #expect(database.health.snapshot.errors == ["responses": 1])
        #expect(!database.health.isAvailable)
        let warning = try #require(logs.all.first)
        #expect(warning.level == .warning)
        #expect(warning.message.contains("could not be deleted"))
        #expect(warning.metadata.contains("no such table"), "\(warning.metadata)")

        // The service keeps running through failures and deletes once the table is back.
        let running = Task { try await service.run() }
        defer { running.cancel() }
        try await Self.waitUntil { (database.health.snapshot.errors["responses"] ?? 0) >= 3 }
        #expect((database.health.snapshot.errors["responses"] ?? 0) >= 3, "sweeps went on after a failure")
        try await database.sqlitePool!.write { db in try db.execute(sql: "ALTER TABLE away RENAME TO stored_responses") }
        try await Self.waitUntil { try await Self.ids(in: database).isEmpty && database.health.isAvailable }
        #expect(try await Self.ids(in: database).isEmpty)
        #expect(database.health.isAvailable)
        running.cancel()
        try await running.value
    }

    /// Polls `condition` every 10 ms for at most 20 s (a loaded machine is slow, a passing test is not).
    private static func waitUntil(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<2000 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
