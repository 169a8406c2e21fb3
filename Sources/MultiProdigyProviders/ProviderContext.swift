import Logging
import MultiProdigyConfig

/// What a provider factory gets besides its configuration.
public struct ProviderContext: Sendable {
    /// The gateway's shared, pooled upstream client; adapters call it through an
    /// ``UpstreamHTTPClient``. Do not shut it down.
    public var transport: UpstreamTransport
    /// The gateway's settings that adapters may need (response size limit, timeouts).
    public var gatewayConfig: GatewayConfig
    /// A logger labelled for the provider.
    public var logger: Logger
    /// State that outlives this configuration: the gateway passes the same memory to the providers
    /// of every configuration it loads. A context made with ``init(transport:gatewayConfig:logger:)``
    /// starts with an empty one.
    public var memory = ProviderMemory()

    /// Creates a context.
    public init(transport: UpstreamTransport, gatewayConfig: GatewayConfig, logger: Logger) {
        self.transport = transport
        self.gatewayConfig = gatewayConfig
        self.logger = logger
    }
}
