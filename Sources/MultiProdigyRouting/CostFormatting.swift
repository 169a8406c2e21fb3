/// Renders USD amounts for messages and headers.
package enum CostFormatting {
    /// `amount` with up to 8 decimals and no trailing zeros (`0.000123`, `2`), never in exponent
    /// notation; `unknown` when it is not finite. Written digit by digit: it runs twice per request.
    package static func usd(_ amount: Double) -> String {
        guard amount.isFinite else { return "unknown" }
        let scaled = (abs(amount) * 100_000_000).rounded()
        guard scaled < 9e18 else { return String(Int64(amount.rounded())) }
        var units = UInt64(scaled)
        var digits: [UInt8] = []
        digits.reserveCapacity(24)
        // Fraction digits, least significant first, skipping trailing zeros.
        var fractionDigits = 0
        var seenNonZero = false
        while fractionDigits < 8 {
            let digit = UInt8(units % 10)
            units /= 10
            fractionDigits += 1
            if digit != 0 || seenNonZero {
                seenNonZero = true
                digits.append(UInt8(ascii: "0") + digit)
            }
        }
        if seenNonZero { digits.append(UInt8(ascii: ".")) }
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(units % 10))
            units /= 10
        } while units > 0
        if amount < 0, scaled > 0 { digits.append(UInt8(ascii: "-")) }
        digits.reverse()
        return String(decoding: digits, as: UTF8.self)
    }
}
