import Foundation
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyRouting
import NIOCore

/// One append-only file of the usage journal, open for appending and locked by its writer.
///
/// A segment is created under a temporary name, locked with `flock`, then renamed to its final
/// name, so another process never sees it unlocked while its writer lives: a replay that cannot
/// lock a segment leaves it in place. The lock goes with the process (kill -9 included), which is
/// what lets the next start replay and remove it.
///
/// - warning: Not thread-safe; ``UsageLedger`` only touches it under its lock.
struct UsageJournalSegment: Sendable {
    /// The file's path.
    package let path: String
    /// The open descriptor, or -1 once closed.
    private(set) var descriptor: Int32
    /// Bytes appended so far.
    package private(set) var byteCount = 0
    /// Set after a failed or partial write: the next line starts with a newline so that a torn
    /// line cannot swallow it.
    private var needsNewline = false

    /// Creates `path`, locks it, and gives it its final name.
    ///
    /// A replay in another process may take the lock of the temporary file in the instant between
    /// its creation and its locking, and remove it; the rename then fails, and creation is tried again.
    /// - Throws: ``StorageError`` when the file cannot be created (permissions, full disk).
    package static func create(at path: String) throws(StorageError) -> UsageJournalSegment {
        var attempt = 1
        while true {
            do {
                return try createOnce(at: path)
            } catch {
                guard attempt < 3 else { throw error }
                attempt += 1
            }
        }
    }

    private static func createOnce(at path: String) throws(StorageError) -> UsageJournalSegment {
        let temporary = path + UsageJournal.creationSuffix
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StorageError(
                problem: "storage: cannot create the usage journal \(temporary): \(String(cString: strerror(errno)))",
                fix: "check that the database's folder is writable and the disk has room"
            )
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            Foundation.close(descriptor)
            unlink(temporary)
            throw StorageError(
                problem: "storage: cannot set up the usage journal \(path): \(reason)",
                fix: "check that the database's folder is writable"
            )
        }
        return UsageJournalSegment(path: path, descriptor: descriptor)
    }

    /// Appends `line` with one `write(2)` (more only if the kernel takes part of it).
    ///
    /// Once this returns nil the bytes are in the kernel's page cache: they survive the death of
    /// the process, kill -9 included, though not a power cut.
    /// - Returns: nil on success, else the `errno` of the failed write.
    package mutating func append(_ line: ByteBuffer) -> Int32? {
        if needsNewline {
            if let failure = [UInt8(0x0A)].withUnsafeBytes({ writeAll($0) }) { return failure }
            needsNewline = false
        }
        return line.withUnsafeReadableBytes { bytes in
            if let failure = writeAll(bytes) {
                needsNewline = true
                return failure
            }
            return nil
        }
    }

    /// Closes the descriptor, which also releases the lock.
    package mutating func close() {
        guard descriptor >= 0 else { return }
        Foundation.close(descriptor)
        descriptor = -1
    }

    /// Writes all of `bytes`, retrying after a signal or a partial write; the `errno` of a failure.
    private mutating func writeAll(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
            byteCount += written
        }
        return nil
    }
}
