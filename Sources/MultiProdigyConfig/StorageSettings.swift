/// `storage:` beyond its URL: what replicas do when PostgreSQL is away, and where usage rows wait.
///
/// `storage:` is either the URL alone (`storage: sqlite:./multiprodigy.db`) or a mapping:
///
/// ```yaml
/// storage:
///   url: postgres://multiprodigy:${POSTGRES_PASSWORD}@db:5432/multiprodigy
///   on_unavailable: open
///   journal: ./multiprodigy-usage-journal
/// ```
public struct StorageSettings: Sendable, Equatable {
    /// What a key's budget and rate limits do while the shared database does not answer.
    public enum UnavailableMode: String, Sendable, Equatable, CaseIterable {
        /// Keep serving: a replica admits from what it has leased, then lets requests through
        /// uncounted against the shared limits (logged, and counted in the metrics).
        case open
        /// Refuse requests of limited keys that need the database (503 `storage_unavailable`).
        case closed
    }

    /// `on_unavailable:`, `open` by default.
    public var onUnavailable: UnavailableMode
    /// `journal:` the folder where usage rows wait until the database has them; nil for the
    /// default (beside an SQLite file; `./multiprodigy-usage-journal` for PostgreSQL).
    public var journal: String?

    /// Creates settings.
    public init(onUnavailable: UnavailableMode = .open, journal: String? = nil) {
        self.onUnavailable = onUnavailable
        self.journal = journal
    }
}
