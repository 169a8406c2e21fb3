import MultiProdigyJSON

/// The tokens one answer used, as OpenAI's `usage` object counts them (every provider's answer is
/// translated into it before the gateway reads it).
///
/// `cachedPromptTokens` are part of `promptTokens`, and `reasoningTokens` part of
/// `completionTokens`, as in OpenAI's `prompt_tokens_details` and `completion_tokens_details`.
public struct TokenUsage: Sendable, Equatable {
    /// `prompt_tokens`.
    public var promptTokens: Int
    /// `completion_tokens`.
    public var completionTokens: Int
    /// `prompt_tokens_details.cached_tokens`: prompt tokens read from the provider's cache.
    public var cachedPromptTokens: Int
    /// `completion_tokens_details.reasoning_tokens`: completion tokens spent thinking.
    public var reasoningTokens: Int
    /// `prompt_tokens_details.cache_creation_tokens`: prompt tokens written to the provider's cache
    /// (Anthropic), part of `promptTokens` and apart from ``cachedPromptTokens``.
    public var cacheWriteTokens: Int = 0
    /// Whether the gateway estimated the counts because the provider reported none.
    public var isEstimated: Bool

    /// The largest count kept (about 10^12): an upstream reporting more is not believed, and sums
    /// of counts cannot overflow.
    public static let maximumCount = 1 << 40

    /// Creates a usage record; counts are clamped to `0...maximumCount`.
    public init(promptTokens: Int, completionTokens: Int, cachedPromptTokens: Int = 0, reasoningTokens: Int = 0, isEstimated: Bool = false)
    {
        self.promptTokens = min(max(0, promptTokens), Self.maximumCount)
        self.completionTokens = min(max(0, completionTokens), Self.maximumCount)
        self.cachedPromptTokens = min(max(0, cachedPromptTokens), self.promptTokens)
        self.reasoningTokens = min(max(0, reasoningTokens), self.completionTokens)
        self.isEstimated = isEstimated
    }

    /// This usage with `count` prompt tokens written to the cache (at most the uncached prompt).
    package func withCacheWrites(_ count: Int) -> TokenUsage {
        var usage = self
        usage.cacheWriteTokens = min(max(0, count), promptTokens - cachedPromptTokens)
        return usage
    }

    /// No tokens.
    public static let zero = TokenUsage(promptTokens: 0, completionTokens: 0)

    /// Both counts added (clamped); estimated if either part was.
    public static func + (lhs: TokenUsage, rhs: TokenUsage) -> TokenUsage {
        TokenUsage(
            promptTokens: lhs.promptTokens + rhs.promptTokens,
            completionTokens: lhs.completionTokens + rhs.completionTokens,
            cachedPromptTokens: lhs.cachedPromptTokens + rhs.cachedPromptTokens,
            reasoningTokens: lhs.reasoningTokens + rhs.reasoningTokens,
            isEstimated: lhs.isEstimated || rhs.isEstimated
        ).withCacheWrites(lhs.cacheWriteTokens + rhs.cacheWriteTokens)
    }

    /// Reads the `usage` object whose members are `fields`; nil when it has neither token count.
    ///
    /// Counts that are missing, negative or not integers read as 0.
    public static func read(fields: [JSONMember], in bytes: UnsafeRawBufferPointer) -> TokenUsage? {
        var prompt: Int?
        var completion: Int?
        var cached = 0
        var written = 0
        var reasoning = 0
        for field in fields {
            switch field.key {
            case "prompt_tokens" where field.kind == .number:
                prompt = JSONScanner.integer(at: field.value, in: bytes)
            case "completion_tokens" where field.kind == .number:
                completion = JSONScanner.integer(at: field.value, in: bytes)
            case "prompt_tokens_details" where field.kind == .object:
                cached = integer("cached_tokens", inObjectAt: field.value, in: bytes) ?? cached
                written = integer("cache_creation_tokens", inObjectAt: field.value, in: bytes) ?? written
            case "completion_tokens_details" where field.kind == .object:
                reasoning = integer("reasoning_tokens", inObjectAt: field.value, in: bytes) ?? reasoning
            default:
                continue
            }
        }
        guard prompt != nil || completion != nil else { return nil }
        return TokenUsage(
            promptTokens: prompt ?? 0,
            completionTokens: completion ?? 0,
            cachedPromptTokens: cached,
            reasoningTokens: reasoning
        ).withCacheWrites(written)
    }

    /// The integer member `key` of the JSON object at `range`, if it has one.
    package static func integer(_ key: String, inObjectAt range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let members = try? JSONScanner.members(ofObjectAt: range, in: bytes),
            let member = members.last(where: { $0.key == key && $0.kind == .number })
        else { return nil }
        return JSONScanner.integer(at: member.value, in: bytes)
    }
}
