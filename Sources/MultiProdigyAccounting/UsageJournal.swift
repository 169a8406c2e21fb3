import Foundation
import MultiProdigyConfig
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

/// The folder of append-only files that hold usage records until the database has them.
///
/// For an SQLite database at `multiprodigy.db` the folder is `multiprodigy.db-usage-journal/`; for
/// PostgreSQL it is the `journal` folder of the `storage:` setting, local to each replica. Each
/// ``UsageLedger`` writes segments named `<token>-<number>.jsonl` there, one JSON line per record.
/// A segment is removed only after a transaction holding all of its lines has committed, and
/// replaying a line twice is harmless (see ``JournaledUsage``), so at any instant every recorded
/// row is in the database, in a segment, or both.
struct UsageJournal: Sendable {
    /// The journal folder.
    let directory: String

    /// The suffix of a segment being created (not yet locked): never replayed.
    static let creationSuffix = ".new"
    /// The suffix of a segment.
    static let segmentSuffix = ".jsonl"

    /// The journal of the SQLite database at `databasePath`, beside it.
    init(databasePath: String) {
        directory = databasePath + "-usage-journal"
    }

    /// The journal in `directory`.
    init(directory: String) {
        self.directory = directory
    }

    /// Creates the folder when it is missing.
    func prepare() throws(StorageError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError(
                problem: "storage: cannot create the usage journal folder \(directory): \(error.localizedDescription)",
                fix: "check that the database's folder is writable"
            )
        }
    }

    /// The path of segment `number` of the ledger with `token`.
    func segmentPath(token: Int64, number: Int) -> String {
        "\(directory)/\(String(UInt64(bitPattern: token), radix: 16))-\(number)\(Self.segmentSuffix)"
    }

    /// What a replay found.
    struct ReplayOutcome: Sendable, Equatable {
        /// Lines read (some may have been stored already).
        var entries = 0
        /// Segments removed: their writers are gone and their lines are now stored.
        var removedSegments = 0
        /// Segments of running ledgers, read but left in place.
        var liveSegments = 0
        /// Torn or unreadable lines skipped.
        var skippedLines = 0
    }

    /// Stores every line of every segment in `engine`, removing each segment no live ledger holds
    /// once its lines are stored.
    ///
    /// A segment whose lock can be taken belongs to a ledger that has closed it or died; its lines
    /// are inserted, one transaction per segment, and once that has committed the file is removed,
    /// so a large journal (after a long outage) is stored a segment at a time and a failure keeps
    /// only what is left. A segment still locked belongs to a running ledger (perhaps in another
    /// process): its complete lines are inserted too, so a report is up to date, but the file is
    /// left to its writer. Lines already stored are ignored, so this is safe at any time,
    /// concurrently with running ledgers.
    func replay(into engine: any StorageEngine) async throws -> ReplayOutcome {
        var outcome = ReplayOutcome()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return outcome }
        for name in names.sorted() {
            let path = "\(directory)/\(name)"
            let isCreation = name.hasSuffix(Self.segmentSuffix + Self.creationSuffix)
            guard isCreation || name.hasSuffix(Self.segmentSuffix) else { continue }
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                if isCreation { continue }
                outcome.liveSegments += 1
                // The last line of a live segment may be mid-write: not counted as skipped.
                if let read = Self.read(path: path), !read.entries.isEmpty {
                    try await engine.insertUsage(read.entries)
                    outcome.entries += read.entries.count
                }
                continue
            }
            // A creation that died before its rename holds no line.
            if !isCreation, let read = Self.read(path: path) {
                if !read.entries.isEmpty { try await engine.insertUsage(read.entries) }
                outcome.entries += read.entries.count
                outcome.skippedLines += read.skipped
            }
            if unlink(path) == 0, !isCreation { outcome.removedSegments += 1 }
        }
        return outcome
    }

    /// The lines of the segment at `path`, skipping torn or unreadable ones; nil when the file is gone.
    static func read(path: String) -> (entries: [JournaledUsage], skipped: Int)? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var entries: [JournaledUsage] = []
        var skipped = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: true) {
            if let entry = JournaledUsage(line: line) {
                entries.append(entry)
            } else {
                skipped += 1
            }
        }
        return (entries, skipped)
    }
}
