import MultiProdigyCore
import MultiProdigyResilience
import MultiProdigyRouting

/// What one target used and cost for part of an answer: a stream's first target before it was
/// cut, or the target that continued it.
public struct UsageSegment: Sendable {
    /// The target.
    public var target: RouteTarget
    /// Its tokens.
    public var usage: TokenUsage
    /// Their cost; nil when its price is unknown.
    public var costUSD: Double?

    /// Creates a segment.
    public init(target: RouteTarget, usage: TokenUsage, costUSD: Double?) {
        self.target = target
        self.usage = usage
        self.costUSD = costUSD
    }
}
