/// How the `balanced` policy weighs cost against latency (`routes.<name>.weights`).
///
/// Both scores are normalised to the route's most expensive and slowest eligible target before
/// weighing, so the weights are comparable whatever the units.
public struct BalancedWeights: Sendable, Equatable {
    /// `cost`: weight of the estimated price.
    public var cost: Double
    /// `latency`: weight of the predicted latency.
    public var latency: Double

    /// Creates weights; ``standard`` is 0.5 each.
    public init(cost: Double, latency: Double) {
        self.cost = cost
        self.latency = latency
    }

    /// Equal weight on cost and latency.
    public static let standard = BalancedWeights(cost: 0.5, latency: 0.5)
}
