import MultiProdigyConfig
import MultiProdigyPrivacy

/// What a client's `model` resolves to before a request is seen: the candidate targets, the policy
/// that ranks them and the timeouts that apply.
public struct RouteDefinition: Sendable, Equatable {
    /// The client's `model`.
    public var requestedName: String
    /// The route's name when `model` names a route.
    public var routeName: String?
    /// The route's policy (`ordered` for a single model).
    public var policy: RoutingPolicy
    /// `weights` of the balanced policy.
    public var weights: BalancedWeights
    /// Every candidate: the route's `targets`, then its `fallback` (``TargetProfile/isFallback``).
    public let profiles: [TargetProfile]
    /// The timeouts that apply.
    public let timeouts: TimeoutSettings
    /// `resilience.splice`: whether a cut stream may be restarted without its prefill and spliced.
    public let splicesContinuations: Bool
    /// The keys under which ``LatencyTracker`` keeps each profile's observations.
    public let statisticsKeys: [String]
    /// For each profile, the index of the first profile serving the same upstream model.
    let deploymentGroups: [Int]
    /// Whether two profiles among the route's `targets` serve the same upstream model.
    let hasDeployments: Bool

    /// Creates a definition.
    public init(
        requestedName: String,
        routeName: String?,
        policy: RoutingPolicy = .ordered,
        weights: BalancedWeights = .standard,
        profiles: [TargetProfile],
        timeouts: TimeoutSettings,
        splicesContinuations: Bool = true
    ) {
        self.splicesContinuations = splicesContinuations
        self.requestedName = requestedName
        self.routeName = routeName
        self.policy = policy
        self.weights = weights
        self.profiles = profiles
        self.timeouts = timeouts
        self.statisticsKeys = profiles.map(\.statisticsKey)
        let groups = profiles.indices.map { index in
            profiles.firstIndex { $0.target.upstreamModel == profiles[index].target.upstreamModel } ?? index
        }
        self.deploymentGroups = groups
        self.hasDeployments = profiles.indices.contains { index in
            !profiles[index].isFallback && groups[index] != index && !profiles[groups[index]].isFallback
        }
    }
}
