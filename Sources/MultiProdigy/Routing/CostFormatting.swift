/// Renders USD amounts for messages and headers.
enum CostFormatting {
    /// `amount` with up to 8 decimals and no trailing zeros (`0.000123`, `2`).
    static func usd(_ amount: Double) -> String {
        guard amount.isFinite else { return "unknown" }
        let scaled = (amount * 100_000_000).rounded()
        let whole = Int64(scaled) / 100_000_000
        var fraction = String(Int64(scaled) % 100_000_000)
        fraction = String(repeating: "0", count: 8 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? String(whole) : "\(whole).\(fraction)"
    }
}
