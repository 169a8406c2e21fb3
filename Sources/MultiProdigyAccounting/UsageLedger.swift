import Foundation
import Logging
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import ServiceLifecycle
import Synchronization

/// The usage ledger: one row per finished request, written off the request path with group commit,
/// and kept even when the process is killed with SIGKILL.
///
/// ``record(_:)`` costs a few microseconds and never waits for the database: it appends the row as one
/// JSON line to the ledger's journal segment with a single `write(2)`, queues it in memory and, when
/// the writer was idle, wakes it. Once `write(2)` has returned the line is in the kernel's page
/// cache, so it outlives the process (not a power cut). The writer (``run()``) then commits
/// whatever has queued in one transaction, at most once per `commitInterval`:
///
/// 1. It creates and locks a fresh segment, then, under the ledger's lock, swaps it in and takes
///    the queued rows. A row recorded before the swap is in the old segment *and* in the batch; one
///    recorded after is in the new segment and the next batch. Nothing falls between.
/// 2. It inserts the batch (`INSERT OR IGNORE` on the row's journal identity, see ``JournaledUsage``)
///    in one transaction.
/// 3. Only after the commit does it delete the old segment. Killed before that, the segment is
///    replayed when the database is next opened; replaying rows already stored changes nothing.
///
/// If the database fails (full disk, locked file, PostgreSQL away), the batch stays queued and its segment stays on disk;
/// the writer retries with a growing delay and logs once a minute. At most `maxQueuedRows` rows are
/// held in memory: past that, rows already in a segment are read back from it when committed.
/// ``record(_:)`` never blocks on any of this and never throws; a journal write that fails is
/// logged once a minute, its row kept in memory.
///
/// Register the ledger in the service group before the HTTP server, so that it stops after the
/// server has drained: on graceful shutdown ``run()`` commits everything, then returns.
///
/// ```swift
/// let database = try await GatewayDatabase.open(storage: config.storage)
/// let ledger = try UsageLedger(database: database, logger: logger)
/// ledger.record(UsageRecord(time: .now, requestID: id, keyName: nil, endpoint: "chat", route: "auto", …))
/// ```
public final class UsageLedger: Service, Sendable {
    /// Where rows are stored.
    public let database: GatewayDatabase
    let logger: Logger
    let commitInterval: Duration
    let maxQueuedRows: Int
    /// This ledger's journal identity: random, so lines of two ledgers never collide.
    let token: Int64
    private let sequence = Atomic<Int64>(0)
    private let segmentNumber = Atomic<Int>(0)
    private let state: Mutex<State>
    private let turnstile = AsyncTurnstile()
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// Counters for tests and diagnostics.
    public struct Statistics: Sendable, Equatable {
        /// Transactions committed by the writer (or by ``UsageLedger/flush()``).
        public var transactions = 0
        /// Rows those transactions held.
        public var committedRows = 0
        /// Rows whose journal write failed (kept in memory only).
        public var unjournaledRows = 0
        /// Rows lost: their journal write failed while the in-memory queue was full.
        public var droppedRows = 0
    }

    private struct RetiredSegment: Sendable {
        var path: String
        var entries: [JournaledUsage]
        /// Rows it holds, in memory or only in its file.
        var rows: Int
        /// Some of the segment's rows were not kept in memory: read them back from the file.
        var readsFile: Bool
        /// Every entry is also in the file, so the entries may be dropped from memory.
        var isFullyJournaled: Bool
    }

    private struct State: Sendable {
        var segment: UsageJournalSegment?
        var pending: [JournaledUsage] = []
        var pendingOnlyInFile = false
        /// Rows written to the current segment but not kept in memory (past `maxQueuedRows`).
        var pendingOnlyInFileRows = 0
        var pendingNotJournaled = false
        var backlog: [RetiredSegment] = []
        var statistics = Statistics()
        var lastJournalWarning: ContinuousClock.Instant?
    }

    /// Creates a ledger writing to `database`, with its own journal segment.
    ///
    /// - Parameters:
    ///   - database: where rows are committed; its journal folder receives this ledger's segments.
    ///   - logger: for failures of the journal or of the database (never on the request path's success).
    ///   - commitInterval: the shortest time between two transactions (group commit); default 25 ms.
    ///   - maxQueuedRows: rows kept in memory before the writer reads them back from the journal; default 100 000.
    /// - Throws: ``StorageError`` when the journal segment cannot be created.
    public init(
        database: GatewayDatabase,
        logger: Logger,
        commitInterval: Duration = .milliseconds(25),
        maxQueuedRows: Int = 100_000
    ) throws(StorageError) {
        self.database = database
        self.logger = logger
        self.commitInterval = commitInterval
        self.maxQueuedRows = max(1, maxQueuedRows)
        var generator = SystemRandomNumberGenerator()
        token = Int64.random(in: 1 ... .max, using: &generator)
        try database.journal.prepare()
        let first = try UsageJournalSegment.create(at: database.journal.segmentPath(token: token, number: 0))
        state = Mutex(State(segment: first))
        (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    deinit {
        state.withLock { state in
            guard var segment = state.segment else { return }
            if segment.byteCount == 0, state.pending.isEmpty { unlink(segment.path) }
            segment.close()
        }
    }

    /// Records one finished request; durable against the death of the process once this returns.
    ///
    /// Cheap enough for the request path: one hand-written JSON line, one `write(2)` under a lock,
    /// no `await`, no database. Never throws: a failing journal is logged (once a minute) and the row
    /// is kept in memory for the writer.
    public func record(_ row: UsageRecord) {
        let entry = JournaledUsage(token: token, sequence: sequence.add(1, ordering: .relaxed).newValue, record: row)
        let line = entry.line()
        let (wakesWriter, failure) = state.withLock { state -> (Bool, (errno: Int32, path: String)?) in
            if state.segment == nil {
                // Closed by the end of `run()`: a row recorded afterwards gets a segment of its own.
                let number = segmentNumber.add(1, ordering: .relaxed).newValue
                state.segment = try? UsageJournalSegment.create(at: database.journal.segmentPath(token: token, number: number))
            }
            let error: Int32? = state.segment != nil ? state.segment!.append(line) : EIO
            let wasIdle = state.pending.isEmpty && !state.pendingOnlyInFile
            if state.pending.count < maxQueuedRows {
                state.pending.append(entry)
                if error != nil {
                    state.pendingNotJournaled = true
                    state.statistics.unjournaledRows += 1
                }
            } else if error == nil {
                state.pendingOnlyInFile = true
                state.pendingOnlyInFileRows += 1
            } else {
                state.statistics.droppedRows += 1
            }
            guard let error else { return (wasIdle, nil) }
            let now = ContinuousClock.now
            if let last = state.lastJournalWarning, now - last < .seconds(60) { return (wasIdle, nil) }
            state.lastJournalWarning = now
            return (wasIdle, (error, state.segment?.path ?? database.journal.directory))
        }
        if wakesWriter { wake.yield() }
        if let failure {
            logger.error(
                "usage journal write failed; rows are kept in memory until the database has them, but would be lost if the process died",
                metadata: ["path": "\(failure.path)", "error": "\(String(cString: strerror(failure.errno)))"]
            )
        }
    }

    /// Commits everything recorded so far (and anything an earlier failure left), in one transaction.
    ///
    /// The writer does this on its own; call it in tests, or before reading the ledger back.
    /// - Throws: the database error, or ``StorageError`` when a new journal segment cannot be created;
    ///   the rows stay queued and journaled either way.
    public func flush() async throws {
        try await turnstile.withTurn {
            try rotate()
            try await commitBacklog()
        }
    }

    /// The group-commit writer: commits queued rows until graceful shutdown, then commits the rest and returns.
    ///
    /// Call once. On cancellation (rather than graceful shutdown) it also commits what it can before returning.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.writeUntilCancelled() }
        // Not inheriting a cancellation: the last transaction should happen even then.
        do {
            try await Task { try await self.flush() }.value
        } catch {
            logger.error(
                "usage ledger: the last rows could not be committed; they stay in the journal and are loaded at the next start",
                metadata: ["error": "\(GatewayDatabase.describe(error))", "journal": "\(database.journal.directory)"]
            )
        }
        state.withLock { state in
            guard var segment = state.segment, segment.byteCount == 0, state.pending.isEmpty else { return }
            unlink(segment.path)
            segment.close()
            state.segment = nil
        }
    }

    /// The writer's counters.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Rows recorded and not yet committed to the database: in the journal, and in memory (or in
    /// memory only, when a journal write failed).
    public var backlogRows: Int {
        state.withLock { state in state.pending.count + state.pendingOnlyInFileRows + state.backlog.reduce(0) { $0 + $1.rows } }
    }

    private func writeUntilCancelled() async {
        var iterator = wakeups.makeAsyncIterator()
        var failingSince: ContinuousClock.Instant?
        var lastFailureLog: ContinuousClock.Instant?
        var retryDelay = Duration.seconds(1)
        while !Task.isCancelled {
            let hasWork = state.withLock { !$0.pending.isEmpty || $0.pendingOnlyInFile || !$0.backlog.isEmpty }
            if !hasWork, await iterator.next() == nil { return }
            do {
                try await flush()
                if let since = failingSince {
                    logger.notice("usage ledger writes recovered", metadata: ["failing_for": "\(ContinuousClock.now - since)"])
                    failingSince = nil
                    retryDelay = .seconds(1)
                }
                try? await Task.sleep(for: commitInterval)
            } catch {
                if Task.isCancelled { return }
                let now = ContinuousClock.now
                if failingSince == nil { failingSince = now }
                if lastFailureLog.map({ now - $0 >= .seconds(60) }) ?? true {
                    lastFailureLog = now
                    logger.error(
                        "usage ledger cannot write to the database; rows are kept in the journal and retried",
                        metadata: [
                            "error": "\(GatewayDatabase.describe(error))", "database": "\(database.location)", "retry_in": "\(retryDelay)",
                        ]
                    )
                }
                try? await Task.sleep(for: retryDelay)
                retryDelay = min(retryDelay * 2, .seconds(30))
            }
        }
    }

    /// Swaps in a fresh segment and moves the queued rows to the backlog, when there are any.
    /// Runs in the turnstile, so only one rotation or commit is under way.
    private func rotate() throws(StorageError) {
        let isEmpty = state.withLock { state in
            state.pending.isEmpty && !state.pendingOnlyInFile && (state.segment?.byteCount ?? 0) == 0
        }
        if isEmpty { return }
        let number = segmentNumber.add(1, ordering: .relaxed).newValue
        let fresh = try UsageJournalSegment.create(at: database.journal.segmentPath(token: token, number: number))
        var retired = state.withLock { state -> UsageJournalSegment? in
            let old = state.segment
            state.segment = fresh
            let entries = state.pending
            state.pending = []
            if let old {
                state.backlog.append(
                    RetiredSegment(
                        path: old.path,
                        entries: entries,
                        rows: entries.count + state.pendingOnlyInFileRows,
                        readsFile: state.pendingOnlyInFile,
                        isFullyJournaled: !state.pendingNotJournaled
                    )
                )
            } else if !entries.isEmpty {
                state.backlog.append(
                    RetiredSegment(path: "", entries: entries, rows: entries.count, readsFile: false, isFullyJournaled: false)
                )
            }
            state.pendingOnlyInFile = false
            state.pendingOnlyInFileRows = 0
            state.pendingNotJournaled = false
            return old
        }
        // Every append to it happened under the lock, before the swap: closing loses nothing.
        retired?.close()
    }

    /// Commits the retired segments' rows, one transaction per segment, deleting each segment once
    /// its rows are in: after a long outage the backlog is stored a segment at a time (each holds
    /// the rows of one retry interval at most), and a failure keeps only what is left.
    private func commitBacklog() async throws {
        let backlog = state.withLock { $0.backlog }
        for segment in backlog {
            var entries = segment.entries
            // Gone means another process replayed it, and it deletes a segment only after committing it.
            if segment.readsFile, let read = UsageJournal.read(path: segment.path) { entries += read.entries }
            let batch = entries
            do {
                if !batch.isEmpty { try await database.run("usage") { engine in try await engine.insertUsage(batch) } }
            } catch {
                trimBacklog()
                throw error
            }
            if !segment.path.isEmpty { unlink(segment.path) }
            state.withLock { state in
                // Only this writer (in the turnstile) removes from the backlog, oldest first.
                state.backlog.removeFirst()
                state.statistics.transactions += 1
                state.statistics.committedRows += batch.count
            }
        }
    }

    /// Bounds the memory a failing database makes the backlog hold: rows that are in their segment
    /// file are dropped from memory, oldest first, and read back when the commit is retried.
    private func trimBacklog() {
        state.withLock { state in
            var held = state.backlog.reduce(0) { $0 + $1.entries.count }
            for index in state.backlog.indices where held > maxQueuedRows && state.backlog[index].isFullyJournaled {
                held -= state.backlog[index].entries.count
                state.backlog[index].entries = []
                state.backlog[index].readsFile = true
            }
        }
    }
}
