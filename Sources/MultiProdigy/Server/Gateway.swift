import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// The gateway: an HTTP server speaking OpenAI's API in front of the configured providers.
///
/// ```swift
/// let config = try ConfigLoader().load(contentsOf: "config/gateway.yaml")
/// try await Gateway(config: config, logger: Logger(label: "multiprodigy")).run()
/// ```
public struct Gateway: Sendable {
    /// The configuration it serves.
    public let config: GatewayConfig
    /// Its logger.
    public let logger: Logger
    /// Whether non-streaming calls to plain-HTTP upstreams use the lean client; tests turn it off to
    /// exercise the AsyncHTTPClient path that HTTPS upstreams take.
    var usesPlainHTTPClient = true
    /// Whether local providers are probed actively; tests whose fakes answer a script turn it off.
    var runsHealthChecks = true

    /// Creates a gateway for `config`.
    public init(config: GatewayConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// Runs until a graceful-shutdown signal (or task cancellation), then drains in-flight requests,
    /// stops the server, and only then closes the upstream client.
    ///
    /// - Parameters:
    ///   - gracefulShutdownSignals: Signals that start a graceful shutdown.
    ///   - listenAddress: Overrides `server.listen`.
    ///   - onListening: Called with the bound port once the server accepts connections.
    public func run(
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        listenAddress: ListenAddress? = nil,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let httpClient = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: Self.clientConfiguration(for: config)
        )
        let plainHTTPClient = PlainHTTPClient(
            group: MultiThreadedEventLoopGroup.singleton,
            connectTimeout: config.resilience.timeouts.connect.timeAmount
        )
        let application: Application<RouterResponder<GatewayRequestContext>>
        let healthChecks: HealthCheckService
        do {
            (application, healthChecks) = try makeApplication(
                httpClient: httpClient,
                plainHTTPClient: plainHTTPClient,
                listenAddress: listenAddress ?? config.server.listen,
                onListening: onListening
            )
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: [UpstreamClientService(client: httpClient, plainHTTPClient: plainHTTPClient), healthChecks, application],
            gracefulShutdownSignals: gracefulShutdownSignals,
            logger: logger
        )
        // A client that stops reading must not hold a shutdown forever.
        groupConfiguration.maximumGracefulShutdownDuration = config.server.drainTimeout
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
    }

    /// The upstream client: no redirects, no decompression, fast failure on refused connections,
    /// and a pool large enough that concurrency is not capped per upstream host.
    static func clientConfiguration(for config: GatewayConfig) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.timeout = .init(
            connect: config.resilience.timeouts.connect.timeAmount,
            read: config.resilience.timeouts.total.timeAmount
        )
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
        configuration.connectionPool.retryConnectionEstablishment = false
        // No tracer is bootstrapped; without this the client still builds span attributes per call.
        configuration.tracing.tracer = nil
        return configuration
    }

    private func makeApplication(
        httpClient: HTTPClient,
        plainHTTPClient: PlainHTTPClient,
        listenAddress: ListenAddress,
        onListening: @escaping @Sendable (Int) async -> Void
    ) throws -> (Application<RouterResponder<GatewayRequestContext>>, HealthCheckService) {
        var slots: [String: ProviderSlot] = [:]
        for provider in config.providers {
            guard provider.isEnabled else {
                logger.warning("provider '\(provider.name)' is disabled: \(provider.disabledReason ?? "")")
                slots[provider.name] = ProviderSlot(config: provider, provider: nil)
                continue
            }
            var providerLogger = logger
            providerLogger[metadataKey: "provider"] = .string(provider.name)
            var context = ProviderContext(httpClient: httpClient, gatewayConfig: config, logger: providerLogger)
            context.plainHTTPClient = usesPlainHTTPClient ? plainHTTPClient : nil
            slots[provider.name] = ProviderSlot(
                config: provider,
                provider: try ProviderRegistry.makeProvider(for: provider, context: context)
            )
        }
        if config.auth.masterKey == nil {
            logger.notice(
                "auth.master_key is empty: the gateway accepts requests without a key (set MULTIPRODIGY_MASTER_KEY to require one)"
            )
        }
        let health = ProviderHealthBoard()
        let healthChecks = HealthCheckService(
            slots: runsHealthChecks ? slots : [:],
            board: health,
            interval: config.resilience.healthCheckInterval,
            logger: logger
        )
        let resolver = ModelResolver(config: config)
        let breakers = CircuitBreakerBoard(settings: config.resilience.breaker)
        let planner = RoutePlanner(resolver: resolver, availability: breakers)
        let planning = RequestPlanning(planner: planner, health: health, detectsPII: config.privacy.detectPII)
        let executor = FailoverExecutor(providers: slots, tracker: planner.tracker, breakers: breakers, retry: config.resilience.retry)
        let chat = ChatCompletionsHandler(
            planning: planning,
            executor: executor,
            maxRequestBytes: config.server.maxRequestBytes,
            maxResponseBytes: config.server.maxResponseBytes
        )
        let embeddings = EmbeddingsHandler(
            planning: planning,
            executor: executor,
            maxRequestBytes: config.server.maxRequestBytes
        )
        let explain = RouteExplainHandler(planning: planning, maxRequestBytes: config.server.maxRequestBytes)
        let models = ModelsHandler(
            config: config,
            resolver: resolver,
            discovery: ModelDiscovery(slots: slots, logger: logger),
            created: Int(Date().timeIntervalSince1970)
        )
        let readiness = HealthHandler(providers: config.providers, board: health)

        let router = Router(context: GatewayRequestContext.self)
        router.middlewares.add(GatewayMiddleware(masterKey: config.auth.masterKey))
        router.post("/v1/chat/completions") { request, context in try await chat.handle(request, context: context) }
        router.post("/v1/embeddings") { request, context in try await embeddings.handle(request, context: context) }
        router.post("/v1/route") { request, context in try await explain.handle(request, context: context) }
        router.get("/v1/models") { _, _ in await models.list() }
        router.get("/v1/models/**") { _, context in try models.retrieve(context.parameters.getCatchAll().joined(separator: "/")) }
        router.get("/health") { _, _ in readiness.health() }
        router.get("/ready") { _, _ in try readiness.ready() }
        router.get("/admin/breakers") { _, _ in BreakerStatusHandler(board: breakers).list() }

        let logger = self.logger
        let application = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [ClientDisconnectHandler()])),
            configuration: .init(address: .hostname(listenAddress.host, port: listenAddress.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? listenAddress.port
                logger.info("multiprodigy listening on \(ListenAddress(host: listenAddress.host, port: port))")
                await onListening(port)
            },
            logger: logger
        )
        return (application, healthChecks)
    }
}
