import MultiProdigyCore
import MultiProdigyJSON

/// The counts of an Anthropic `usage` object, each nil when the object does not carry it.
///
/// A streamed message reports its usage twice: `message_start` carries the input counts (and a
/// first output count), `message_delta` the final output count and, on newer API versions, the
/// input counts again. Both are cumulative, so ``updated(by:)`` keeps the newer count where the newer
/// object has one and the older elsewhere.
struct MessagesUsageCounts: Sendable, Equatable {
    /// `input_tokens`: the prompt tokens neither read from nor written to the cache.
    var inputTokens: Int?
    /// `cache_creation_input_tokens`: prompt tokens written to the cache.
    var cacheCreationInputTokens: Int?
    /// `cache_read_input_tokens`: prompt tokens read from the cache.
    var cacheReadInputTokens: Int?
    /// `output_tokens`.
    var outputTokens: Int?

    /// No counts.
    init() {}

    /// Reads the members of a `usage` object; counts that are not whole numbers read as missing.
    init(fields: [JSONMember], in bytes: UnsafeRawBufferPointer) {
        for field in fields where field.kind == .number {
            switch field.key {
            case "input_tokens": inputTokens = JSONScanner.integer(at: field.value, in: bytes)
            case "cache_creation_input_tokens": cacheCreationInputTokens = JSONScanner.integer(at: field.value, in: bytes)
            case "cache_read_input_tokens": cacheReadInputTokens = JSONScanner.integer(at: field.value, in: bytes)
            case "output_tokens": outputTokens = JSONScanner.integer(at: field.value, in: bytes)
            default: continue
            }
        }
    }

    /// These counts with every count `newer` carries taking the place of this one's.
    func updated(by newer: MessagesUsageCounts) -> MessagesUsageCounts {
        var counts = self
        counts.inputTokens = newer.inputTokens ?? inputTokens
        counts.cacheCreationInputTokens = newer.cacheCreationInputTokens ?? cacheCreationInputTokens
        counts.cacheReadInputTokens = newer.cacheReadInputTokens ?? cacheReadInputTokens
        counts.outputTokens = newer.outputTokens ?? outputTokens
        return counts
    }

    /// The counts as the gateway keeps them; nil when there is neither an input nor an output count.
    ///
    /// Anthropic's `input_tokens` excludes the cached tokens, which OpenAI's `prompt_tokens` (and so
    /// ``TokenUsage/promptTokens``) includes: the prompt is the sum of the three input counts.
    var tokenUsage: TokenUsage? {
        guard inputTokens != nil || outputTokens != nil else { return nil }
        // Each part clamped first, so that an upstream's absurd count cannot overflow the sum.
        func clamped(_ count: Int?) -> Int { min(max(0, count ?? 0), TokenUsage.maximumCount) }
        let written = clamped(cacheCreationInputTokens)
        let read = clamped(cacheReadInputTokens)
        return TokenUsage(
            promptTokens: clamped(inputTokens) + written + read,
            completionTokens: clamped(outputTokens),
            cachedPromptTokens: read
        ).withCacheWrites(written)
    }
}
