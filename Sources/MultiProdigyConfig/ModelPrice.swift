import MultiProdigyPrivacy

/// Token prices of a model, in USD per million tokens.
public struct ModelPrice: Sendable, Equatable {
    /// `input`: USD per 1M prompt tokens.
    public var input: Double
    /// `output`: USD per 1M completion tokens.
    public var output: Double
    /// `cached_input`: USD per 1M prompt tokens read from the provider's prompt cache, when it
    /// discounts them; nil prices them as ordinary input.
    public var cachedInput: Double?
    /// `cache_write`: USD per 1M prompt tokens written to the provider's prompt cache, when it
    /// charges more for them (Anthropic: 1.25× input); nil prices them as ordinary input.
    public var cacheWrite: Double?
    /// `reasoning`: USD per 1M reasoning (thinking) tokens, when they are not priced as output;
    /// nil prices them as output, which is what OpenAI, Anthropic and Google do.
    public var reasoning: Double?

    /// Creates a price.
    public init(input: Double, output: Double, cachedInput: Double? = nil, reasoning: Double? = nil, cacheWrite: Double? = nil) {
        self.input = input
        self.output = output
        self.cachedInput = cachedInput
        self.reasoning = reasoning
        self.cacheWrite = cacheWrite
    }

    /// Free: a local model without a price.
    public static let free = ModelPrice(input: 0, output: 0)
}
