/// The gateway's validated configuration: immutable once loaded.
///
/// Built by ``ConfigLoader`` from `config/gateway.yaml`; see the README for every key.
public struct GatewayConfig: Sendable {
    /// `server:` listening address and request limits.
    public var server: ServerSettings
    /// `auth:` the master key.
    public var auth: AuthSettings
    /// `storage:` where keys and the usage ledger live (`sqlite:./multiprodigy.db`).
    public var storage: String
    /// `providers:` in file order.
    public var providers: [ProviderConfig]
    /// `models:` in file order.
    public var models: [ModelConfig]
    /// `routes:` in file order.
    public var routes: [RouteConfig]
    /// `privacy:` settings.
    public var privacy: PrivacySettings
    /// `resilience:` global timeouts, retry and breaker settings.
    public var resilience: ResilienceSettings

    /// Creates a configuration; ``ConfigLoader`` is the usual way.
    public init(
        server: ServerSettings = ServerSettings(),
        auth: AuthSettings = AuthSettings(),
        storage: String = "sqlite:./multiprodigy.db",
        providers: [ProviderConfig] = [],
        models: [ModelConfig] = [],
        routes: [RouteConfig] = [],
        privacy: PrivacySettings = PrivacySettings(),
        resilience: ResilienceSettings = ResilienceSettings()
    ) {
        self.server = server
        self.auth = auth
        self.storage = storage
        self.providers = providers
        self.models = models
        self.routes = routes
        self.privacy = privacy
        self.resilience = resilience
    }

    /// The provider named `name`, if configured.
    public func provider(named name: String) -> ProviderConfig? {
        providers.first { $0.name == name }
    }

    /// The model declared as `name`, if any.
    public func model(named name: String) -> ModelConfig? {
        models.first { $0.name == name }
    }

    /// The route named `name`, if any.
    public func route(named name: String) -> RouteConfig? {
        routes.first { $0.name == name }
    }
}

/// `server:` settings.
public struct ServerSettings: Sendable, Equatable {
    /// `listen`, host and port (default `127.0.0.1:4100`).
    public var listen: ListenAddress
    /// `max_request_bytes`: larger request bodies get 413 (default `8MiB`).
    public var maxRequestBytes: Int
    /// `max_response_bytes`: largest non-streaming upstream answer accepted (default `32MiB`).
    public var maxResponseBytes: Int

    /// Creates server settings.
    public init(
        listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 4100),
        maxRequestBytes: Int = 8 << 20,
        maxResponseBytes: Int = 32 << 20
    ) {
        self.listen = listen
        self.maxRequestBytes = maxRequestBytes
        self.maxResponseBytes = maxResponseBytes
    }
}

/// A `host:port` pair to listen on.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// Host name or IP address.
    public var host: String
    /// TCP port; 0 lets the system choose.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`; nil when it is neither.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    /// `host:port`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// `auth:` settings.
public struct AuthSettings: Sendable, Equatable {
    /// `master_key`: when set, every `/v1` call must present it; when empty the gateway is open.
    public var masterKey: String?

    /// Creates auth settings.
    public init(masterKey: String? = nil) {
        self.masterKey = masterKey
    }
}

/// `privacy:` settings.
public struct PrivacySettings: Sendable, Equatable {
    /// `detect_pii`: restrict prompts that carry personal data to local targets.
    public var detectPII: Bool

    /// Creates privacy settings.
    public init(detectPII: Bool = true) {
        self.detectPII = detectPII
    }
}

/// Where a provider runs, which decides whether private prompts may go to it.
public enum Locality: String, Sendable, Equatable, CaseIterable {
    /// On infrastructure you control (Ollama, TGI, vLLM on your machines).
    case local
    /// A third party's service.
    case cloud
}

/// One entry under `providers:`.
public struct ProviderConfig: Sendable, Equatable {
    /// The key under `providers:`.
    public var name: String
    /// `type`: which adapter speaks to it (`openai`, or a type registered with ``ProviderRegistry``).
    public var type: String
    /// `base_url`: the API root, as the provider documents it.
    public var baseURL: String
    /// `api_key`, after `${VAR}` interpolation; nil when none is needed.
    public var apiKey: String?
    /// `locality`: `local` or `cloud`.
    public var locality: Locality
    /// `headers`: extra headers sent with every upstream call.
    public var headers: [String: String]
    /// `options`: free-form settings for custom provider types.
    public var options: [String: String]
    /// Why the provider is disabled (such as an unset secret); nil when enabled.
    public var disabledReason: String?

    /// Creates a provider configuration.
    public init(
        name: String,
        type: String,
        baseURL: String,
        apiKey: String? = nil,
        locality: Locality = .cloud,
        headers: [String: String] = [:],
        options: [String: String] = [:],
        disabledReason: String? = nil
    ) {
        self.name = name
        self.type = type
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.locality = locality
        self.headers = headers
        self.options = options
        self.disabledReason = disabledReason
    }

    /// Whether requests may be sent to this provider.
    public var isEnabled: Bool { disabledReason == nil }
}

/// Token prices of a model, in USD per million tokens.
public struct ModelPrice: Sendable, Equatable {
    /// `input`: USD per 1M prompt tokens.
    public var input: Double
    /// `output`: USD per 1M completion tokens.
    public var output: Double
    /// `cached_input`: USD per 1M cached prompt tokens, when the provider discounts them.
    public var cachedInput: Double?

    /// Creates a price.
    public init(input: Double, output: Double, cachedInput: Double? = nil) {
        self.input = input
        self.output = output
        self.cachedInput = cachedInput
    }
}

/// A capability a request may need from a model.
public enum ModelCapability: String, Sendable, Equatable, CaseIterable {
    /// Function calling (`tools`).
    case tools
    /// Image input.
    case vision
    /// JSON mode and `json_schema` output.
    case json
}

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

/// How a route orders its targets.
public enum RoutingPolicy: String, Sendable, Equatable, CaseIterable {
    /// As listed.
    case ordered
    /// Cheapest first.
    case cost
    /// Fastest first.
    case latency
    /// Local targets only.
    case privacy
    /// Weighted cost and latency.
    case balanced

    /// Policies this version of the gateway implements.
    public static let implemented: [RoutingPolicy] = [.ordered]
}

/// One entry under `routes:`.
public struct RouteConfig: Sendable, Equatable {
    /// The key under `routes:`; what clients put in `model`.
    public var name: String
    /// `policy`.
    public var policy: RoutingPolicy
    /// `targets`: declared model names or `provider/model`, tried first.
    public var targets: [String]
    /// `fallback`: tried after every target failed, in order.
    public var fallback: [String]
    /// `resilience.timeouts` for this route, over the global ones.
    public var timeouts: TimeoutSettings?

    /// Creates a route.
    public init(
        name: String,
        policy: RoutingPolicy = .ordered,
        targets: [String],
        fallback: [String] = [],
        timeouts: TimeoutSettings? = nil
    ) {
        self.name = name
        self.policy = policy
        self.targets = targets
        self.fallback = fallback
        self.timeouts = timeouts
    }
}
