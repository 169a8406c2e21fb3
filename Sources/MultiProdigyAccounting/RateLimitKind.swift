/// Which of a key's rate limits a shared bucket counts; its raw value names the bucket's row.
public enum RateLimitKind: String, Sendable, Hashable, CaseIterable {
    /// Requests per minute (`--rpm`): a request takes one whole unit.
    case requests = "rpm"
    /// Tokens per minute (`--tpm`): a request takes its estimated tokens, settled with the real count.
    case tokens = "tpm"

    /// Whether a take needs the whole amount in the bucket (requests) or only a positive balance
    /// (tokens), as ``TokenBucket/take(_:whole:now:)`` has it.
    public var takesWholeUnits: Bool { self == .requests }
}
