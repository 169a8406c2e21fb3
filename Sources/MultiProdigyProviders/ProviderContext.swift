import AsyncHTTPClient
import Logging
import MultiProdigyConfig

/// What a provider factory gets besides its configuration.
public struct ProviderContext: Sendable {
    /// The gateway's shared, pooled upstream HTTP client. Do not shut it down.
    public var httpClient: HTTPClient
    /// The gateway's settings that adapters may need (response size limit, timeouts).
    public var gatewayConfig: GatewayConfig
    /// A logger labelled for the provider.
    public var logger: Logger
    /// The gateway's lean client for plain-HTTP upstreams, when the gateway provides one.
    package var plainHTTPClient: PlainHTTPClient?
    /// State that outlives this configuration: the gateway passes the same memory to the providers
    /// of every configuration it loads. A context made with ``init(httpClient:gatewayConfig:logger:)``
    /// starts with an empty one.
    public var memory = ProviderMemory()

    /// Creates a context.
    public init(httpClient: HTTPClient, gatewayConfig: GatewayConfig, logger: Logger) {
        self.httpClient = httpClient
        self.gatewayConfig = gatewayConfig
        self.logger = logger
    }
}
