/// One place a request can be sent: a model on a provider.
public struct RouteTarget: Sendable, Equatable {
    /// The name the response reports as `model`: the key under `models:`, or `provider/model`.
    public var name: String
    /// The provider serving it.
    public var providerName: String
    /// The model name the upstream knows.
    public var upstreamModel: String

    /// Creates a target.
    public init(name: String, providerName: String, upstreamModel: String) {
        self.name = name
        self.providerName = providerName
        self.upstreamModel = upstreamModel
    }
}

/// The targets a request will be offered to, in order.
public struct RoutePlan: Sendable, Equatable {
    /// The route's name when the client named a route; nil for a model or `provider/model`.
    public var routeName: String?
    /// The targets, in the order they are tried (route `fallback` last).
    public var targets: [RouteTarget]
    /// The timeouts that apply.
    public var timeouts: TimeoutSettings

    /// Creates a plan.
    public init(routeName: String?, targets: [RouteTarget], timeouts: TimeoutSettings) {
        self.routeName = routeName
        self.targets = targets
        self.timeouts = timeouts
    }
}
