import Foundation
import MultiProdigyConfig
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

/// Where the gateway keeps its database, as read from `storage:`.
///
/// `sqlite:PATH` (or `sqlite://PATH`) and a bare path name an SQLite file; a relative path is
/// taken from the working directory: one gateway process at a time. `postgres://` (or
/// `postgresql://`) names a PostgreSQL database that any number of replicas share.
///
/// ```swift
/// let location = try StorageLocation(parsing: "sqlite:./multiprodigy.db")
/// ```
public enum StorageLocation: Sendable, Equatable, CustomStringConvertible {
    /// An SQLite database file, as an absolute path.
    case sqlite(path: String)
    /// A PostgreSQL database.
    case postgres(PostgresLocation)

    /// Parses a `storage:` value, resolving a relative path against `workingDirectory`.
    ///
    /// - Parameters:
    ///   - storage: the setting, such as `sqlite:./multiprodigy.db` or `/var/lib/multiprodigy/gateway.db`.
    ///   - workingDirectory: what a relative path is relative to (the process's by default).
    /// - Throws: ``StorageError`` naming `storage` when the value is empty, in memory, PostgreSQL or an unknown scheme.
    public init(parsing storage: String, workingDirectory: String = FileManager.default.currentDirectoryPath) throws(StorageError) {
        let trimmed = storage.trimmingCharacters(in: .whitespaces)
        let lowercased = trimmed.lowercased()
        let path: String
        if lowercased.hasPrefix("sqlite://") {
            path = String(trimmed.dropFirst("sqlite://".count))
        } else if lowercased.hasPrefix("sqlite:") {
            path = String(trimmed.dropFirst("sqlite:".count))
        } else if lowercased.hasPrefix("postgres://") || lowercased.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(parsing: trimmed))
            return
        } else if let colon = trimmed.firstIndex(of: ":"), trimmed[colon...].hasPrefix("://") {
            throw StorageError(
                problem: "storage: '\(trimmed[..<colon])' is not a known kind of storage",
                fix:
                    "use 'sqlite:PATH', a file path or 'postgres://user:password@host:5432/database', such as 'storage: sqlite:./multiprodigy.db'"
            )
        } else {
            path = trimmed
        }
        guard !path.isEmpty else {
            throw StorageError(
                problem: "storage: no database file is named",
                fix: "name one, such as 'storage: sqlite:./multiprodigy.db'"
            )
        }
        guard path != ":memory:" else {
            throw StorageError(
                problem: "storage: an in-memory database would lose the usage ledger and keys at every restart",
                fix: "name a file, such as 'storage: sqlite:./multiprodigy.db'"
            )
        }
        let absolute = path.hasPrefix("/") ? path : URL(fileURLWithPath: workingDirectory).appendingPathComponent(path).path
        self = .sqlite(path: URL(fileURLWithPath: absolute).standardizedFileURL.path)
    }

    /// `sqlite:/path` or the PostgreSQL URL without its password: safe to log.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let location): location.description
        }
    }
}
