import Foundation
import Logging
import TestFixtures
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyResilience

/// The usage ledger inside one process: exact summaries, group commit, journal replay.
@Suite struct UsageLedgerTests {
    static let noon = Fixtures.noon

    static func journalFiles(_ database: GatewayDatabase) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: database.journal.directory)) ?? []).sorted()
    }

    static func rowCount(_ database: GatewayDatabase) throws -> Int {
        try database.sqlitePool!.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM usage") ?? 0 }
    }

    @Test func flushedRowsGiveExactSummariesSpendAndTotals() async throws {
        let database = try await GatewayDatabase.temporary()
        let ledger = try UsageLedger(database: database, logger: Logger(label: "test"))
        ledger.record(Fixtures.usageRow("r1", tokens: (100, 20), cost: 0.25, latency: 0.25))
        ledger.record(Fixtures.usageRow("r2", tokens: (50, 10), cost: 0.5, latency: 0.75))
        ledger.record(Fixtures.usageRow("r3", tokens: (1, 1), cost: 0.125, latency: 0.5, status: 502))
        ledger.record(Fixtures.usageRow("r4", key: nil, model: "big", tokens: (7, 3), cost: 1, latency: 2))
        ledger.record(Fixtures.usageRow("old", cost: 100, at: Self.noon.addingTimeInterval(-86_400)))
        try await ledger.flush()

        let since = Self.noon.addingTimeInterval(-3600)
        let byKey = try await ledger.summary(since: since, by: .key)
        #expect(
            byKey == [
                UsageSummaryRow(
                    group: nil,
                    requests: 1,
                    errors: 0,
                    promptTokens: 7,
                    completionTokens: 3,
                    costUSD: 1,
                    meanLatencySeconds: 2,
                    medianLatencySeconds: 2,
                    maxLatencySeconds: 2
                ),
                UsageSummaryRow(
                    group: "team-a",
                    requests: 3,
                    errors: 1,
                    promptTokens: 151,
                    completionTokens: 31,
                    costUSD: 0.875,
                    meanLatencySeconds: 0.5,
                    medianLatencySeconds: 0.5,
                    maxLatencySeconds: 0.75
                ),
            ]
        )
        #expect(try await ledger.summary(since: since, by: .model).map(\.group) == ["big", "small"])
        #expect(try await ledger.summary(since: since, by: .provider).map(\.requests) == [4])
        let total = try await ledger.total(since: since)
        #expect(total.requests == 4 && total.errors == 1 && total.promptTokens == 158 && total.costUSD == 1.875)
        #expect(total.medianLatencySeconds == 0.5 && total.maxLatencySeconds == 2)
        #expect(try await ledger.spend(since: since) == ["team-a": 0.875])
        #expect(try await ledger.spend(since: .distantPast) == ["team-a": 100.875])
        #expect(try await ledger.spend(keyName: "team-a", since: since) == 0.875)
        #expect(try await ledger.spend(keyName: "nobody", since: since) == 0)
        #expect(try await ledger.total(since: Self.noon.addingTimeInterval(1)).requests == 0)
    }

    @Test func everyFieldRoundTripsThroughTheJournalLine() async throws {
        var record = Fixtures.usageRow("req_\"quoted\"\n", key: "ké/y")
        record.timeToFirstTokenSeconds = nil
        record.costUSD = 0.000_001_23
        record.time = Date(timeIntervalSince1970: 1_750_000_000.123456)
        let entry = JournaledUsage(token: -42, sequence: 7, record: record)
        var line = entry.line()
        let bytes = line.readBytes(length: line.readableBytes)!
        #expect(bytes.last == 0x0A)
        #expect(JournaledUsage(line: bytes.dropLast()) == entry)
        #expect(JournaledUsage(line: bytes.dropLast(5)) == nil)

        // With a path, whose steps may hold quotes, slashes and colons.
        record.path = ["openai/gpt:server", "llama3:8b:cut_timeout", "a \"b\":ok"]
        var withPath = JournaledUsage(token: 1, sequence: 2, record: record).line()
        let pathBytes = withPath.readBytes(length: withPath.readableBytes)!
        #expect(JournaledUsage(line: pathBytes.dropLast())?.record.path == record.path)
    }

    @Test func theLongestLineFitsItsBuffer() {
        // Every text as long as the gateway lets it be and made of control characters, each escaped to six bytes:
        // the line is sized before it is written, and a line larger than its room would trap.
        let hostile = String(repeating: "\u{01}", count: 256)
        var record = Fixtures.usageRow(hostile, key: hostile, model: hostile, provider: hostile, route: hostile)
        record.endpoint = hostile
        record.path = Array(repeating: "openai/\(hostile):client", count: AttemptTrail.maximumSteps) + ["…+9"]
        var line = JournaledUsage(token: .min, sequence: .max, record: record).line()
        let bytes = line.readBytes(length: line.readableBytes)!
        #expect(JournaledUsage(line: bytes.dropLast())?.record == record)
        #expect(UsageRecord.path(fromText: record.pathText ?? "") == record.path)
    }

    @Test func rowsAndTotalsFollowTheQuerysFiltersAndPages() async throws {
        let database = try await GatewayDatabase.temporary()
        let ledger = try UsageLedger(database: database, logger: Logger(label: "test"))
        var failedOver = Fixtures.usageRow("r1", route: "fast", tokens: (100, 20), cost: 0.25)
        failedOver.path = ["bad:server", "small:ok"]
        ledger.record(failedOver)
        ledger.record(Fixtures.usageRow("r2", model: "big", route: "fast", tokens: (50, 10), cost: 0.5, status: 502))
        ledger.record(Fixtures.usageRow("r3", key: nil, route: "slow", tokens: (1, 1), cost: 0.125))
        ledger.record(Fixtures.usageRow("old", cost: 100, at: Self.noon.addingTimeInterval(-86_400)))
        try await ledger.flush()

        let all = try await ledger.rows(LedgerQuery(limit: 10))
        #expect(all.map(\.record.requestID) == ["old", "r3", "r2", "r1"], "newest committed first")
        #expect(all.last?.record.path == ["bad:server", "small:ok"])
        #expect(all.first?.record.path == nil)
        var query = LedgerQuery(since: Self.noon.addingTimeInterval(-3600), limit: 2)
        let page = try await ledger.rows(query)
        #expect(page.map(\.record.requestID) == ["r3", "r2"])
        query.beforeID = page.last?.id
        #expect(try await ledger.rows(query).map(\.record.requestID) == ["r1"])
        query.beforeID = nil
        query.route = "fast"
        #expect(
            try await ledger.totals(query) == LedgerTotals(requests: 2, errors: 1, promptTokens: 150, completionTokens: 30, costUSD: 0.75)
        )
        query.status = .succeeded
        #expect(try await ledger.rows(query).map(\.record.requestID) == ["r1"])
        query.status = .exactly(502)
        query.model = "big"
        #expect(try await ledger.rows(query).map(\.record.requestID) == ["r2"])
        var byKey = LedgerQuery(limit: 10)
        byKey.keyName = "team-a"
        byKey.status = .failed
        #expect(try await ledger.totals(byKey).requests == 1)
        var withoutKey = LedgerQuery(limit: 10)
        withoutKey.keyName = LedgerQuery.noKey
        #expect(try await ledger.rows(withoutKey).map(\.record.requestID) == ["r3"])
        withoutKey.keyName = nil
        withoutKey.model = LedgerQuery.missing
        #expect(try await ledger.rows(withoutKey).isEmpty)
        // A value is bound, never spliced into the SQL.
        byKey.keyName = "x' OR '1'='1"
        #expect(try await ledger.rows(byKey).isEmpty)
        await database.close()
    }

    @Test func aQuerysConditionsNameOnlyFixedColumns() {
        var query = LedgerQuery(since: Date(timeIntervalSince1970: 5), limit: 3)
        query.route = "r"
        query.status = .failed
        query.endpoint = "chat"
        let (sql, values) = query.conditions { "$\($0)" }
        #expect(sql == "WHERE time >= $1 AND route = $2 AND endpoint = $3 AND status >= 400")
        #expect(values == [.double(5), .text("r"), .text("chat")])
        #expect(LedgerQuery(limit: 1).conditions { _ in "?" }.sql == "")
    }

    @Test func concurrentRecordsAreCommittedInFewTransactions() async throws {
        let database = try await GatewayDatabase.temporary()
        let ledger = try UsageLedger(database: database, logger: Logger(label: "test"), commitInterval: .milliseconds(50))
        let writer = Task { try await ledger.run() }
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<250 { ledger.record(Fixtures.usageRow("t\(task)-\(index)")) }
                }
            }
        }
        try await ledger.flush()
        #expect(try Self.rowCount(database) == 2000)
        let statistics = ledger.statistics
        #expect(statistics.committedRows == 2000)
        #expect(statistics.transactions >= 1 && statistics.transactions <= 20, "\(statistics)")
        writer.cancel()
        try await writer.value
        // The writer's last act deletes its empty segment: nothing is left to replay.
        #expect(Self.journalFiles(database) == [])
    }

    @Test func cancellingTheWriterStillCommitsWhatWasRecorded() async throws {
        let database = try await GatewayDatabase.temporary()
        let ledger = try UsageLedger(database: database, logger: Logger(label: "test"), commitInterval: .seconds(10))
        let writer = Task { try await ledger.run() }
        for index in 0..<10 { ledger.record(Fixtures.usageRow("r\(index)")) }
        writer.cancel()
        try await writer.value
        #expect(try Self.rowCount(database) == 10)
    }

    @Test func aFailingDatabaseKeepsRowsJournaledAndStoresThemOnceItRecovers() async throws {
        let database = try await GatewayDatabase.temporary()
        // Two rows in memory at most: the others are read back from the journal when committed.
        let ledger = try UsageLedger(database: database, logger: Logger(label: "test"), maxQueuedRows: 2)
        try await database.sqlitePool!.write { db in try db.execute(sql: "ALTER TABLE usage RENAME TO usage_away") }
        for index in 0..<5 { ledger.record(Fixtures.usageRow("r\(index)")) }
        await #expect(throws: (any Error).self) { try await ledger.flush() }
        ledger.record(Fixtures.usageRow("r5"))
        await #expect(throws: (any Error).self) { try await ledger.flush() }
        // Two retired segments wait for SQLite, beside the active one.
        #expect(Self.journalFiles(database).count == 3)
        #expect(ledger.statistics.transactions == 0)
        // The backlog counts every waiting row, those held only in their segment files included.
        #expect(ledger.backlogRows == 6)

        try await database.sqlitePool!.write { db in try db.execute(sql: "ALTER TABLE usage_away RENAME TO usage") }
        try await ledger.flush()
        #expect(try Self.rowCount(database) == 6)
        // One transaction per retired segment, each deleted once its rows are in.
        #expect(ledger.statistics == UsageLedger.Statistics(transactions: 2, committedRows: 6))
        #expect(Self.journalFiles(database).count == 1)
        #expect(ledger.backlogRows == 0)
    }

    @Test func rowsOfALiveLedgerAreReadWithoutRemovingItsJournal() async throws {
        let database = try await GatewayDatabase.temporary()
        var ledger: UsageLedger? = try UsageLedger(database: database, logger: Logger(label: "test"))
        for index in 0..<3 { ledger?.record(Fixtures.usageRow("r\(index)")) }
        #expect(try Self.rowCount(database) == 0)

        // Another process (say `multiprodigy usage`) opens the database while the ledger lives.
        let reader = try await GatewayDatabase.open(path: database.path)
        #expect(try Self.rowCount(reader) == 3)
        #expect(Self.journalFiles(database).count == 1)

        // The ledger dies without committing; the next opening replays and removes its segment.
        ledger = nil
        let next = try await GatewayDatabase.open(path: database.path)
        #expect(try Self.rowCount(next) == 3)
        #expect(Self.journalFiles(database) == [])
    }

    @Test func aTornLastLineIsSkippedAndTheRestReplayed() async throws {
        let database = try await GatewayDatabase.temporary()
        var text = ""
        for sequence in 1...2 {
            text += String(buffer: JournaledUsage(token: 9, sequence: Int64(sequence), record: Fixtures.usageRow("r\(sequence)")).line())
        }
        let torn = String(buffer: JournaledUsage(token: 9, sequence: 3, record: Fixtures.usageRow("r3")).line())
        text += torn.prefix(torn.count / 2)
        try text.write(toFile: database.journal.segmentPath(token: 9, number: 0), atomically: false, encoding: .utf8)

        let outcome = try await database.journal.replay(into: database.engine)
        #expect(outcome == UsageJournal.ReplayOutcome(entries: 2, removedSegments: 1, liveSegments: 0, skippedLines: 1))
        #expect(try Self.rowCount(database) == 2)
        #expect(Self.journalFiles(database) == [])
    }

    @Test func replayingASegmentTwiceStoresItsRowsOnce() async throws {
        let database = try await GatewayDatabase.temporary()
        let line = String(buffer: JournaledUsage(token: 5, sequence: 1, record: Fixtures.usageRow("same")).line())
        let path = database.journal.segmentPath(token: 5, number: 0)
        try line.write(toFile: path, atomically: false, encoding: .utf8)
        try await database.replayUsageJournal()
        try line.write(toFile: path, atomically: false, encoding: .utf8)
        try await database.replayUsageJournal()
        #expect(try Self.rowCount(database) == 1)
        // Two requests that share a request id (a different journal identity) are both kept.
        let other = String(buffer: JournaledUsage(token: 6, sequence: 1, record: Fixtures.usageRow("same")).line())
        try other.write(toFile: path, atomically: false, encoding: .utf8)
        try await database.replayUsageJournal()
        #expect(try Self.rowCount(database) == 2)
    }

    @Test func aRowRecordedAfterTheWriterStoppedIsKeptForTheNextStart() async throws {
        let database = try await GatewayDatabase.temporary()
        do {
            let ledger = try UsageLedger(database: database, logger: Logger(label: "test"))
            let writer = Task { try await ledger.run() }
            writer.cancel()
            try await writer.value
            ledger.record(Fixtures.usageRow("late"))
        }
        #expect(try Self.rowCount(database) == 0)
        let reopened = try await GatewayDatabase.open(path: database.path)
        #expect(try Self.rowCount(reopened) == 1)
    }

    @Test func recordTakesOnlyMicroseconds() async throws {
        let database = try await GatewayDatabase.temporary()
        let ledger = try UsageLedger(database: database, logger: Logger(label: "test"))
        let row = Fixtures.usageRow("warm")
        ledger.record(row)
        // The fastest of 100 batches of 20: a busy machine takes the processor away for
        // milliseconds at a time, but not from every batch, while a record that waited for the
        // disk would make every batch slow.
        let clock = ContinuousClock()
        var fastest = Duration.seconds(1)
        var total = Duration.zero
        for _ in 0..<100 {
            let batch = clock.measure { for _ in 0..<20 { ledger.record(row) } }
            fastest = min(fastest, batch)
            total += batch
        }
        // Generous for a shared debug build; the release figure is a few microseconds.
        #expect(fastest / 20 < .microseconds(200), "\(fastest / 20) per record")
        // And on average, loosely: stalls now and then are the machine's, but not on most records.
        #expect(total / 2_000 < .milliseconds(2), "\(total / 2_000) per record on average")
    }
}
