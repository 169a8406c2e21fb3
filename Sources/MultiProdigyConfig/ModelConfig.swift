import MultiProdigyPrivacy

/// One entry under `models:`.
public struct ModelConfig: Sendable, Equatable {
    /// The key under `models:`; what clients put in `model`.
    public var name: String
    /// `provider`: the provider serving it.
    public var provider: String
    /// `model`: the upstream's name for it (defaults to ``name``).
    public var upstreamModel: String
    /// `price`, if known.
    public var price: ModelPrice?
    /// `context`: context window in tokens.
    public var contextWindow: Int?
    /// `supports`: capabilities.
    public var capabilities: Set<ModelCapability>
    /// `latency`: the expected time to first token (streams) or to the whole answer, used by the
    /// latency policy until the gateway has measured the model itself.
    public var latencyPrior: Duration?
    /// `weight`: this deployment's share of traffic among deployments of the same upstream model
    /// (default 1).
    public var weight: Double
    /// `output_factor`: how much longer this model's answers run than the route's expected answer
    /// (a reasoning model that writes its thinking as output tokens, say), for cost ranking only
    /// (default 1).
    public var outputFactor: Double
    /// `non_streaming`: whether a non-streaming request reaches it as a stream the gateway assembles
    /// (default) or as a non-streaming call.
    public var nonStreaming: NonStreamingCalls

    /// Creates a model declaration.
    public init(
        name: String,
        provider: String,
        upstreamModel: String? = nil,
        price: ModelPrice? = nil,
        contextWindow: Int? = nil,
        capabilities: Set<ModelCapability> = [],
        latencyPrior: Duration? = nil,
        weight: Double = 1,
        outputFactor: Double = 1,
        nonStreaming: NonStreamingCalls = .assembled
    ) {
        self.nonStreaming = nonStreaming
        self.latencyPrior = latencyPrior
        self.outputFactor = outputFactor
        self.weight = weight
        self.name = name
        self.provider = provider
        self.upstreamModel = upstreamModel ?? name
        self.price = price
        self.contextWindow = contextWindow
        self.capabilities = capabilities
    }
}
