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

    /// Creates a model declaration.
    public init(
        name: String,
        provider: String,
        upstreamModel: String? = nil,
        price: ModelPrice? = nil,
        contextWindow: Int? = nil,
        capabilities: Set<ModelCapability> = []
    ) {
        self.name = name
        self.provider = provider
        self.upstreamModel = upstreamModel ?? name
        self.price = price
        self.contextWindow = contextWindow
        self.capabilities = capabilities
    }
}
