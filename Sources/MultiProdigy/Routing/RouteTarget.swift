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

    /// The key under which ``LatencyTracker`` keeps what is measured about it: per (provider,
    /// upstream model), so two routes sharing a target share what is learnt about it.
    public var statisticsKey: String { "\(providerName)/\(upstreamModel)" }
}
