import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting

/// What a streamed answer used and cost, segment by segment: the first target's stream and any
/// continuation of it on another target.
///
/// The segments' tokens come from the relay (see ``StreamSegment``: reported by the upstream, or
/// estimated); the tally prices each on its own target.
struct StreamTally: Sendable {
    /// Each segment's target, tokens and cost.
    let segments: [UsageSegment]
    /// Tokens of all segments; nil when there are none.
    var usage: TokenUsage? { segments.isEmpty ? nil : segments.reduce(.zero) { $0 + $1.usage } }
    /// Cost of the segments whose price is known; nil when none is.
    var costUSD: Double? {
        let costs = segments.compactMap(\.costUSD)
        return costs.isEmpty ? nil : costs.reduce(0, +)
    }

    /// Prices `segments` with `accounting`.
    init(_ segments: [StreamSegment], accounting: RequestAccounting) {
        self.segments = segments.map {
            UsageSegment(target: $0.target, usage: $0.usage, costUSD: accounting.cost(of: $0.usage, on: $0.target))
        }
    }
}
