import MultiProdigyPrivacy

/// One entry under `routes:`.
public struct RouteConfig: Sendable, Equatable {
    /// The key under `routes:`; what clients put in `model`.
    public var name: String
    /// `policy`.
    public var policy: RoutingPolicy
    /// `targets`: declared model names or `provider/model`, tried first.
    public var targets: [String]
    /// `fallback`: tried after every target failed, in order.
    public var fallback: [String]
    /// `weights` of the `balanced` policy; nil means 0.5 cost, 0.5 latency.
    public var weights: BalancedWeights?
    /// `resilience.timeouts` for this route, over the global ones.
    public var timeouts: TimeoutSettings?
    /// `resilience.splice` for this route, over the global one.
    public var splice: Bool?

    /// Creates a route.
    public init(
        name: String,
        policy: RoutingPolicy = .ordered,
        targets: [String],
        fallback: [String] = [],
        weights: BalancedWeights? = nil,
        timeouts: TimeoutSettings? = nil,
        splice: Bool? = nil
    ) {
        self.splice = splice
        self.weights = weights
        self.name = name
        self.policy = policy
        self.targets = targets
        self.fallback = fallback
        self.timeouts = timeouts
    }
}
