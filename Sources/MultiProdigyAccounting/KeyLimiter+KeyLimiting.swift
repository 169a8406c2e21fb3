import Foundation

/// One process's limiter admits without waiting: its synchronous ``KeyLimiter/admit(_:estimatedTokens:estimatedCostUSD:now:date:)``
/// is the protocol's asynchronous requirement.
extension KeyLimiter: KeyLimiting {
    /// The running count of settled spend, once the key has been used in this period.
    public func spentUSD(ofKey id: String, inPeriodStarting periodStart: Date) -> Double? {
        guard let usage = usage(ofKey: id), usage.periodStart == periodStart else { return nil }
        return usage.spentUSD
    }
}
