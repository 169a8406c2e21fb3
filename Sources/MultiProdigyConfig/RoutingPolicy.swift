/// How a route orders its targets.
public enum RoutingPolicy: String, Sendable, Equatable, CaseIterable {
    /// As listed.
    case ordered
    /// Cheapest first.
    case cost
    /// Fastest first.
    case latency
    /// Local targets only.
    case privacy
    /// Weighted cost and latency.
    case balanced
}
