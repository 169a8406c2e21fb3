import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore
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
    /// Whether local providers are probed actively; tests whose fakes answer a script turn it off.
    var runsHealthChecks = true
    /// The file the configuration came from: when set, SIGHUP or a change to the file reloads it
    /// (validated first; a bad file keeps the running configuration).
    public var configPath: String?
    /// The variables `${VAR}` expands to when the configuration is reloaded.
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    /// How often a reloadable configuration file is checked for changes.
    var reloadPollInterval: Duration = .seconds(1)
    /// How often stored responses past `storage.responses_retention` are deleted after the sweep at start.
    var responsesSweepInterval = ResponseRetentionService.defaultInterval
    /// Where the gateway keeps the secrets of every configuration it loads, so that upstream error
    /// text and health details are scrubbed of them; give the log handler the same instance.
    public var knownSecrets = KnownSecrets()
    /// How log lines are written: with ``LogFormat/json``, the gateway also writes one access-log
    /// line per finished request (``AccessLog``). `server.log_format` by default.
    public var logFormat: LogFormat

    /// Creates a gateway for `config`.
    public init(config: GatewayConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        self.logFormat = config.server.logFormat
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
        // Keys and the usage ledger live in `storage:`; without them the gateway does not start.
        // Opening it migrates the schema and replays the usage journal, before any request.
        let database = try await GatewayDatabase.open(storage: config.storage, journal: config.storageSettings.journal, logger: logger)
        let ledger: UsageLedger
        let limiter: any KeyLimiting
        let keys: KeyAuthenticator
        do {
            ledger = try UsageLedger(database: database, logger: logger)
            limiter = Self.limiter(for: database, ledger: ledger, settings: config.storageSettings, logger: logger)
            keys = try await KeyAuthenticator(store: KeyStore(database: database), limiter: limiter)
        } catch {
            await database.close()
            throw error
        }
        // The upstream client: idle connections closed after `server.upstream_idle_timeout` (read at
        // start; a reload does not change it). It follows no redirects and asks for no compression.
        let transport = UpstreamTransport(
            group: MultiThreadedEventLoopGroup.singleton,
            connectTimeout: config.resilience.timeouts.connect.timeAmount,
            idleTimeout: config.server.upstreamIdleTimeout.timeAmount
        )
        // Traces (read at start): a tracer and its exporter only when `tracing.enabled`; without
        // them a request pays one nil check.
        let tracing: TracingBackend?
        do {
            tracing = config.tracing.enabled ? try TracingBackend(settings: config.tracing, logger: logger) : nil
        } catch {
            transport.shutdown()
            await database.close()
            throw error
        }
        if tracing != nil {
            logger.info(
                "tracing: spans exported over OTLP/HTTP to \(config.tracing.loggableEndpoint)\(ProcessInfo.processInfo.environment.keys.contains { $0.hasPrefix("OTEL_EXPORTER_OTLP") && $0.contains("ENDPOINT") } ? " (an OTEL_EXPORTER_OTLP_*ENDPOINT variable overrides it)" : ""), sample ratio \(config.tracing.sampleRatio)"
            )
        }
        let shared = GatewayRuntime.Shared(
            transport: transport,
            health: ProviderHealthBoard(),
            tracker: LatencyTracker(),
            metrics: GatewayMetrics(),
            limiter: limiter,
            ledger: ledger,
            keys: keys,
            secrets: knownSecrets,
            providerMemory: ProviderMemory(),
            logger: logger,
            accessLog: logFormat == .json ? AccessLog() : nil,
            tracer: tracing?.tracer
        )
        let box: RuntimeBox
        let server: any Service
        let connectionLimiter: ConnectionLimiter
        do {
            box = RuntimeBox(try GatewayRuntime.make(config: config, shared: shared))
            let runtimeBox = box
            connectionLimiter = ConnectionLimiter { runtimeBox.current.config.server.maxConnections }
            server = makeServer(
                box: box,
                shared: shared,
                connectionLimiter: connectionLimiter,
                listenAddress: listenAddress ?? config.server.listen,
                onListening: onListening
            )
        } catch {
            transport.shutdown()
            await database.close()
            throw error
        }
        let runsHealthChecks = self.runsHealthChecks
        // Services stop in reverse order: the ledger commits its last rows after the server has
        // drained, and the upstream client closes last of all.
        var services: [any Service] = []
        // First, so it stops last: the spans of the requests the server drains are exported.
        if let tracing { services.append(tracing.service) }
        services += [
            UpstreamClientService(transport: transport),
            MemoryReturnService(connections: connectionLimiter, logger: logger),
            ledger,
            keys,
        ]
        // Replicas give their unused slices of budgets and rate limits back after the server has drained.
        if let shared = limiter as? SharedKeyLimiter { services.append(shared) }
        // Stored responses past their retention (read at start) are deleted at start and then hourly;
        // on PostgreSQL every replica sweeps, which is harmless since deletes by age are idempotent.
        if let retention = config.storageSettings.responsesRetention {
            services.append(
                ResponseRetentionService(database: database, retention: retention, interval: responsesSweepInterval, logger: logger)
            )
        }
        services += [
            HealthCheckService(
                providers: { runsHealthChecks ? box.current.probedProviders : [] },
                board: shared.health,
                interval: config.resilience.healthCheckInterval,
                secrets: knownSecrets,
                logger: logger
            )
        ]
        if let configPath {
            services.append(
                ConfigReloadService(
                    path: configPath,
                    box: box,
                    shared: shared,
                    environment: environment,
                    pollInterval: reloadPollInterval,
                    logger: logger
                )
            )
        }
        services.append(server)
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: gracefulShutdownSignals,
            logger: logger
        )
        // A client that stops reading must not hold a shutdown forever.
        groupConfiguration.maximumGracefulShutdownDuration = config.server.drainTimeout
        let group = ServiceGroup(configuration: groupConfiguration)
        do {
            try await group.run()
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }

    /// The limiter of keys' budgets and rate limits: one process's own counts on SQLite; slices
    /// leased from the database that every replica shares on PostgreSQL.
    static func limiter(
        for database: GatewayDatabase,
        ledger: UsageLedger,
        settings: StorageSettings,
        logger: Logger
    ) -> any KeyLimiting {
        guard database.isShared, let store = database.sharedLimits else {
            return KeyLimiter { [logger] keyName, since in
                do {
                    return try await ledger.spend(keyName: keyName, since: since)
                } catch {
                    logger.error(
                        "could not read what key '\(keyName)' has spent; its budget starts from zero",
                        metadata: ["error": "\(GatewayDatabase.describe(error))"]
                    )
                    return 0
                }
            }
        }
        var configuration = SharedKeyLimiter.Configuration()
        configuration.onUnavailable = settings.onUnavailable == .closed ? .closed : .open
        let health = database.health
        return SharedKeyLimiter(store: store, configuration: configuration) { [logger] failure in
            health.failed("limits", error: GatewayDatabase.describe(failure.error))
            guard failure.shouldLog else { return }
            logger.error(
                settings.onUnavailable == .closed
                    ? "the database did not answer a budget or rate limit lease; requests of limited keys beyond what this replica holds are refused (storage.on_unavailable: closed)"
                    : "the database did not answer a budget or rate limit lease; requests of limited keys are let through uncounted until it answers (storage.on_unavailable: open)",
                metadata: ["error": "\(GatewayDatabase.describe(failure.error))"]
            )
        }
    }

    /// The HTTP server: Hummingbird's server and router, with the gateway's own connection handling
    /// (``GatewayHTTPChannel``). A request takes the current runtime once, when it starts, and
    /// keeps it to its last byte.
    private func makeServer(
        box: RuntimeBox,
        shared: GatewayRuntime.Shared,
        connectionLimiter: ConnectionLimiter,
        listenAddress: ListenAddress,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> any Service {
        let router = Router(context: GatewayRequestContext.self)
        let middleware = GatewayMiddleware(runtime: { box.current })
        router.middlewares.add(middleware)
        // Every route serves a request with the runtime its context took at the start (see
        // GatewayMiddleware), never `box.current`: a reload mid-request cannot mix configurations.
        let chat: @Sendable (Request, GatewayRequestContext) async throws -> Response = { request, context in
            try await context.servingRuntime().chat.handle(request, context: context)
        }
        router.post("/v1/chat/completions", use: chat)
        router.post("/v1/responses") { request, context in try await context.servingRuntime().responses.create(request, context: context) }
        router.get("/v1/responses/:id") { _, context in
            try await context.servingRuntime().responses.retrieve(try context.parameters.require("id"), context: context)
        }
        router.delete("/v1/responses/:id") { _, context in
            try await context.servingRuntime().responses.delete(try context.parameters.require("id"), context: context)
        }
        router.get("/v1/responses/:id/input_items") { request, context in
            try await context.servingRuntime().responses.inputItems(
                try context.parameters.require("id"),
                request: request,
                context: context
            )
        }
        router.post("/v1/messages") { request, context in try await context.servingRuntime().messages.handle(request, context: context) }
        router.post("/v1/messages/count_tokens") { request, context in
            try await context.servingRuntime().messages.countTokens(request, context: context)
        }
        router.post("/v1/embeddings") { request, context in try await context.servingRuntime().embeddings.handle(request, context: context)
        }
        router.post("/v1/route") { request, context in try await context.servingRuntime().explain.handle(request, context: context) }
        // A virtual key limited to some routes sees only those.
        router.get("/v1/models") { _, context in try await context.servingRuntime().models.list(allowed: context.caller.allowedRoutes) }
        router.get("/v1/models/**") { _, context in
            try context.servingRuntime().models.retrieve(
                context.parameters.getCatchAll().joined(separator: "/"),
                allowed: context.caller.allowedRoutes
            )
        }
        router.get("/health") { _, context in try context.servingRuntime().readiness.health() }
        router.get("/ready") { _, context in try context.servingRuntime().readiness.ready() }
        router.get("/admin/breakers") { _, context in try context.servingRuntime().breakerStatus.list() }
        // The middleware admits only the master key to /admin/keys; the handlers check it again.
        router.get("/admin/keys") { request, context in
            try KeysAdminHandler.requireMaster(context)
            return try await context.servingRuntime().keysAdmin.list(request)
        }
        router.post("/admin/keys") { request, context in
            try KeysAdminHandler.requireMaster(context)
            return try await context.servingRuntime().keysAdmin.create(request)
        }
        router.delete("/admin/keys/:key") { _, context in
            try KeysAdminHandler.requireMaster(context)
            return try await context.servingRuntime().keysAdmin.revoke(try context.parameters.require("key"))
        }
        router.get("/metrics") { _, context in
            shared.metrics.recordBudgetUse(try await context.servingRuntime().keysAdmin.budgetUse())
            let text = shared.metrics.exposition(
                breakers: try context.servingRuntime().breakers,
                tracker: shared.tracker,
                ledger: shared.ledger
            )
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text))
            )
        }

        Self.addDashboard(to: router, shared: shared)

        let logger = self.logger
        let routes = router.buildResponder()
        let responder: GatewayHTTPHandler.Responder = { request, channel, receivedAt in
            var context = GatewayRequestContext(source: .init(channel: channel, logger: logger))
            context.receivedAt = receivedAt
            context.runtime = box.current
            do {
                // The hottest endpoint skips the router's path look-up: the same middleware and
                // handler as its route above, without the trie walk and the responder layers.
                if request.method == .post, request.uri.path == "/v1/chat/completions" {
                    return try await middleware.handle(request, context: context, next: chat)
                }
                return try await routes.respond(to: request, context: context)
            } catch {
                // The middleware answers every error itself; this is a last resort.
                logger.error("unanswered error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
                return GatewayError(status: .internalServerError, message: "The gateway hit an internal error.", type: "server_error")
                    .response()
            }
        }
        let connections = GatewayHTTPChannel(
            responder: responder,
            maxBodyBytes: { box.current.config.server.maxRequestBytes },
            limits: { ClientDeadlineStateMachine.Limits(box.current.config.server) },
            refusesBeforeBody: { head in middleware.refusesBeforeBody(head) },
            connectionLimiter: connectionLimiter
        )
        return connections.server(
            // A deep accept queue (the kernel caps it at net.core.somaxconn): a burst of new
            // connections (a thousand clients opening streams at once) waits to be accepted instead
            // of overflowing the queue and retrying its SYN a second later.
            configuration: ServerConfiguration(address: .hostname(listenAddress.host, port: listenAddress.port), backlog: 4096),
            onServerRunning: { channel in
                // Accept up to 64 waiting connections per wake-up of the listener rather than
                // SwiftNIO's 4: under a burst, a connection waits for its accept behind the answers
                // of those already open, and 4 at a time left some waiting seconds.
                try? await channel.setOption(ChannelOptions.maxMessagesPerRead, value: 64)
                let port = channel.localAddress?.port ?? listenAddress.port
                logger.info("multiprodigy listening on \(ListenAddress(host: listenAddress.host, port: port))")
                await onListening(port)
            },
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger
        )
    }
}
