/// `storage:` beyond its URL: what replicas do when PostgreSQL is away, where usage rows wait, and
/// how long stored responses are kept.
///
/// `storage:` is either the URL alone (`storage: sqlite:./multiprodigy.db`) or a mapping:
///
/// ```yaml
/// storage:
///   url: postgres://multiprodigy:${POSTGRES_PASSWORD}@db:5432/multiprodigy
///   on_unavailable: open
///   journal: ./multiprodigy-usage-journal
///   responses_retention: 30d
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

    /// `responses_retention:` how long the Responses API's stored responses are kept, from their
    /// creation; nil (`off` or `0`) keeps them until their owner deletes them.
    public var responsesRetention: Duration?

    /// 30 days, as OpenAI keeps stored responses.
    public static let defaultResponsesRetention: Duration = .seconds(30 * 86_400)
    /// The shortest retention accepted: anything shorter is more likely `30s` written for `30d`
    /// than a wish, and would expire a response before its conversation could continue.
    public static let minimumResponsesRetention: Duration = .seconds(60)

    /// Creates settings.
    public init(
        onUnavailable: UnavailableMode = .open,
        journal: String? = nil,
        responsesRetention: Duration? = defaultResponsesRetention
    ) {
        self.onUnavailable = onUnavailable
        self.journal = journal
        self.responsesRetention = responsesRetention
    }
}
