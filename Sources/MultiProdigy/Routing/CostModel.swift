/// USD for tokens at a model's price (prices are per million tokens).
public enum CostModel {
    /// The cost of `promptTokens` in and `completionTokens` out at `price`.
    public static func usd(promptTokens: Double, completionTokens: Double, price: ModelPrice) -> Double {
        (promptTokens * price.input + completionTokens * price.output) / 1_000_000
    }
}
