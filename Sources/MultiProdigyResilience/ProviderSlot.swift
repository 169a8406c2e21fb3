import MultiProdigyConfig
import MultiProdigyCore

/// A configured provider and, when it is enabled, its adapter.
public struct ProviderSlot: Sendable {
    /// The provider's configuration.
    public var config: ProviderConfig
    /// The adapter; nil when the provider is disabled.
    public var provider: (any LLMProvider)?

    /// Creates a slot.
    public init(config: ProviderConfig, provider: (any LLMProvider)?) {
        self.config = config
        self.provider = provider
    }
}
