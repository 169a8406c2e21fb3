import MultiProdigyConfig
import MultiProdigyPrivacy

/// What the configuration says about one target: where it runs, what it costs, what it can do.
///
/// Prepared once per configuration by ``ModelResolver``; planning only reads it.
public struct TargetProfile: Sendable, Equatable {
    /// The target itself.
    public var target: RouteTarget
    /// `locality` of its provider.
    public var locality: Locality
    /// `price`; nil when unknown (a local target without a price costs 0).
    public var price: ModelPrice?
    /// `context`: the context window in tokens, when declared.
    public var contextWindow: Int?
    /// `supports`; nil when the model declares nothing (an undeclared `provider/model`, or a model
    /// without `supports:`), in which case no capability filter applies.
    public var capabilities: Set<ModelCapability>?
    /// `latency`: the expected latency until the gateway has measured it.
    public var latencyPrior: Duration?
    /// `weight` among deployments of the same upstream model.
    public var weight: Double
    /// `output_factor`: its expected answer length relative to the plan's, for cost ranking.
    public var outputFactor: Double
    /// `non_streaming`: how a non-streaming request reaches it.
    public var nonStreaming: NonStreamingCalls
    /// Whether it comes from the route's `fallback` list.
    public var isFallback: Bool
    /// Why its provider is disabled, or nil when enabled.
    public var disabledReason: String?

    /// Creates a profile.
    public init(
        target: RouteTarget,
        locality: Locality,
        price: ModelPrice? = nil,
        contextWindow: Int? = nil,
        capabilities: Set<ModelCapability>? = nil,
        latencyPrior: Duration? = nil,
        weight: Double = 1,
        outputFactor: Double = 1,
        nonStreaming: NonStreamingCalls = .assembled,
        isFallback: Bool = false,
        disabledReason: String? = nil
    ) {
        self.target = target
        self.locality = locality
        self.price = price
        self.contextWindow = contextWindow
        self.capabilities = capabilities
        self.latencyPrior = latencyPrior
        self.weight = weight
        self.outputFactor = outputFactor
        self.nonStreaming = nonStreaming
        self.isFallback = isFallback
        self.disabledReason = disabledReason
        self.statisticsKey = target.statisticsKey
    }

    /// The key its observations are kept under: per (provider, upstream model), so two routes
    /// sharing a target share what is learnt about it.
    public let statisticsKey: String

    /// The price that counts for cost ranking: the configured one, else 0 for a local target,
    /// else unknown.
    public var effectivePrice: ModelPrice? {
        price ?? (locality == .local ? ModelPrice(input: 0, output: 0) : nil)
    }
}
