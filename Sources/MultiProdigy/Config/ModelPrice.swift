/// Token prices of a model, in USD per million tokens.
public struct ModelPrice: Sendable, Equatable {
    /// `input`: USD per 1M prompt tokens.
    public var input: Double
    /// `output`: USD per 1M completion tokens.
    public var output: Double
    /// `cached_input`: USD per 1M cached prompt tokens, when the provider discounts them.
    public var cachedInput: Double?

    /// Creates a price.
    public init(input: Double, output: Double, cachedInput: Double? = nil) {
        self.input = input
        self.output = output
        self.cachedInput = cachedInput
    }
}
