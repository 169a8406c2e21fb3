import MultiProdigyPrivacy

/// The gateway's validated configuration: immutable once loaded.
///
/// Built by ``ConfigLoader`` from `config/gateway.yaml`; see the README for every key.
public struct GatewayConfig: Sendable {
    /// `server:` listening address and request limits.
    public var server: ServerSettings
    /// `auth:` the master key.
    public var auth: AuthSettings
    /// `storage:` (or `storage.url:`) where keys and the usage ledger live: `sqlite:./multiprodigy.db`
    /// or `postgres://user:password@host:5432/database`.
    public var storage: String
    /// `storage.on_unavailable:` and `storage.journal:`.
    public var storageSettings: StorageSettings
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
    /// `tracing:` OpenTelemetry traces (off by default; read at start).
    public var tracing: TracingSettings

    /// Creates a configuration; ``ConfigLoader`` is the usual way.
    public init(
        server: ServerSettings = ServerSettings(),
        auth: AuthSettings = AuthSettings(),
        storage: String = "sqlite:./multiprodigy.db",
        storageSettings: StorageSettings = StorageSettings(),
        providers: [ProviderConfig] = [],
        models: [ModelConfig] = [],
        routes: [RouteConfig] = [],
        privacy: PrivacySettings = PrivacySettings(),
        resilience: ResilienceSettings = ResilienceSettings(),
        tracing: TracingSettings = TracingSettings()
    ) {
        self.server = server
        self.auth = auth
        self.storage = storage
        self.storageSettings = storageSettings
        self.providers = providers
        self.models = models
        self.routes = routes
        self.privacy = privacy
        self.resilience = resilience
        self.tracing = tracing
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
