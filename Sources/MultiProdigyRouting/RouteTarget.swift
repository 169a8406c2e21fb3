import MultiProdigyConfig
import MultiProdigyPrivacy

/// One place a request can be sent: a model on a provider.
public struct RouteTarget: Sendable, Equatable {
    /// The name the response reports as `model`: the key under `models:`, or `provider/model`.
    public let name: String
    /// The provider serving it.
    public let providerName: String
    /// The model name the upstream knows.
    public let upstreamModel: String
    /// The key under which ``LatencyTracker`` and the circuit breakers keep what is learnt about
    /// it: per (provider, upstream model), so two routes sharing a target share it. Built once
    /// here, since every attempt uses it several times.
    public let statisticsKey: String

    /// Creates a target.
    public init(name: String, providerName: String, upstreamModel: String) {
        self.name = name
        self.providerName = providerName
        self.upstreamModel = upstreamModel
        self.statisticsKey = "\(providerName)/\(upstreamModel)"
    }
}
