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
