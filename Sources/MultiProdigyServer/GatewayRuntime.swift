import Foundation
import Logging
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import Tracing

/// Everything a configuration decides, built once per configuration: the providers, the planner
/// and the handlers. A reload builds a new runtime and swaps it in whole; requests already running
/// keep the runtime they started with.
///
/// A class, so that reading the current runtime on every request costs one reference, not a copy
/// of every handler.
final class GatewayRuntime: Sendable {
    /// What lives across reloads: the upstream client, and what has been learnt about targets (health,
    /// latency, breakers), which stays valid as long as a target is still configured.
    struct Shared: Sendable {
        /// The upstream client every provider calls through.
        let transport: UpstreamTransport
        let health: ProviderHealthBoard
        let tracker: LatencyTracker
        let metrics: GatewayMetrics
        let limiter: any KeyLimiting
        /// The usage ledger: a row per finished request.
        let ledger: UsageLedger
        /// The virtual keys.
        let keys: KeyAuthenticator
        /// Every secret of every configuration loaded, which errors and logs must not show.
        let secrets: KnownSecrets
        /// What providers remember across reloads (Gemini's thought signatures).
        let providerMemory: ProviderMemory
        let logger: Logger
        /// A line per finished request, when the log format is JSON.
        var accessLog: AccessLog?
        /// The dashboard's login sessions, kept across reloads.
        var dashboardSessions = DashboardSessions()
        /// Starts the spans of traced requests; nil when `tracing.enabled` is false (read at start).
        var tracer: (any Tracer)? = nil
    }

    let config: GatewayConfig
    let masterKey: [UInt8]?
    let chat: ChatCompletionsHandler
    let embeddings: EmbeddingsHandler
    /// `/v1/messages`: Anthropic's Messages API over the chat path.
    var messages: MessagesHandler { MessagesHandler(chat: chat) }
    /// `/v1/responses`: OpenAI's Responses API over the chat path, and its stored responses.
    var responses: ResponsesHandler { ResponsesHandler(chat: chat, store: responseStore) }
    /// The Responses API's stored responses, in the gateway's database.
    let responseStore: ResponseStore
    let explain: RouteExplainHandler
    let models: ModelsHandler
    let readiness: HealthHandler
    let breakerStatus: BreakerStatusHandler
    let keysAdmin: KeysAdminHandler
    /// The virtual keys.
    let keys: KeyAuthenticator
    let breakers: CircuitBreakerBoard
    /// Prices answers and records finished requests.
    let accounting: RequestAccounting
    /// The enabled local providers, which the health checks probe.
    let probedProviders: [(name: String, provider: any LLMProvider)]
    /// `/ui`'s pages and login, with the sessions every runtime shares.
    let dashboard: DashboardHandler
    /// Starts the span of each request to an LLM endpoint; nil when tracing is off.
    let tracer: (any Tracer)?
    /// Each configured provider's type by its name, for the spans' `gen_ai.provider.name`.
    let providerTypes: [String: String]

    private init(
        config: GatewayConfig,
        masterKey: [UInt8]?,
        chat: ChatCompletionsHandler,
        embeddings: EmbeddingsHandler,
        explain: RouteExplainHandler,
        models: ModelsHandler,
        readiness: HealthHandler,
        breakerStatus: BreakerStatusHandler,
        keysAdmin: KeysAdminHandler,
        keys: KeyAuthenticator,
        responseStore: ResponseStore,
        breakers: CircuitBreakerBoard,
        accounting: RequestAccounting,
        probedProviders: [(name: String, provider: any LLMProvider)],
        dashboard: DashboardHandler,
        tracer: (any Tracer)?,
        providerTypes: [String: String]
    ) {
        self.dashboard = dashboard
        self.tracer = tracer
        self.providerTypes = providerTypes
        self.responseStore = responseStore
        self.accounting = accounting
        self.config = config
        self.masterKey = masterKey
        self.chat = chat
        self.embeddings = embeddings
        self.explain = explain
        self.models = models
        self.readiness = readiness
        self.breakerStatus = breakerStatus
        self.keysAdmin = keysAdmin
        self.keys = keys
        self.breakers = breakers
        self.probedProviders = probedProviders
    }

    /// Builds the runtime of `config`.
    ///
    /// - Parameter previous: The runtime being replaced: its circuit breakers carry over when the
    ///   breaker settings did not change.
    /// - Throws: When a provider cannot be created (an unknown custom type, say).
    static func make(config: GatewayConfig, shared: Shared, previous: GatewayRuntime? = nil) throws -> GatewayRuntime {
        let logger = shared.logger
        // Learnt first, so that the log handler masks this configuration's secrets from its first line.
        let scrubber = shared.secrets.learn(from: config)
        shared.providerMemory.beginConfiguration()
        var slots: [String: ProviderSlot] = [:]
        for provider in config.providers {
            guard provider.isEnabled else {
                logger.warning("provider '\(provider.name)' is disabled: \(provider.disabledReason ?? "")")
                slots[provider.name] = ProviderSlot(config: provider, provider: nil)
                continue
            }
            var providerLogger = logger
            providerLogger[metadataKey: "provider"] = .string(provider.name)
            var context = ProviderContext(transport: shared.transport, gatewayConfig: config, logger: providerLogger)
            context.memory = shared.providerMemory
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
        let resolver = ModelResolver(config: config)
        let breakers =
            previous.flatMap { $0.config.resilience.breaker == config.resilience.breaker ? $0.breakers : nil }
            ?? CircuitBreakerBoard(settings: config.resilience.breaker)
        let planner = RoutePlanner(resolver: resolver, tracker: shared.tracker, availability: breakers)
        let executor = FailoverExecutor(
            providers: slots,
            tracker: shared.tracker,
            breakers: breakers,
            retry: config.resilience.retry,
            observer: shared.metrics,
            scrubber: scrubber,
            maximumAnswerBytes: config.server.maxResponseBytes,
            tracer: shared.tracer
        )
        var planning = RequestPlanning(planner: planner, health: shared.health, detectsPII: config.privacy.detectPII)
        planning.nativeAPIs = { executor.nativeAPIs(of: $0) }
        let accounting = RequestAccounting(
            metrics: shared.metrics,
            resolver: resolver,
            limiter: shared.limiter,
            ledger: shared.ledger,
            accessLog: shared.accessLog
        )
        // Every series this configuration can produce exists from the first scrape, at zero.
        shared.metrics.declare(
            routes: (resolver.routeNames + resolver.modelNames).compactMap(resolver.definition(for:)),
            providers: config.providers.map(\.name),
            keyName: (config.auth.masterKey == nil ? RequestCaller.anonymous : RequestCaller.master).name
        )
        // Nothing below throws: this configuration will run, so what only earlier ones used goes.
        shared.providerMemory.forgetStatesNotAskedFor()
        return GatewayRuntime(
            config: config,
            masterKey: config.auth.masterKey.map { Array($0.utf8) },
            chat: ChatCompletionsHandler(
                planning: planning,
                executor: executor,
                maxRequestBytes: config.server.maxRequestBytes,
                maxStreamTranscriptBytes: config.server.maxStreamTranscriptBytes,
                continuationStyle: { resolver.continuationStyle(of: $0) },
                accounting: accounting
            ),
            embeddings: EmbeddingsHandler(
                planning: planning,
                executor: executor,
                maxRequestBytes: config.server.maxRequestBytes,
                accounting: accounting
            ),
            explain: RouteExplainHandler(planning: planning, maxRequestBytes: config.server.maxRequestBytes),
            models: ModelsHandler(
                config: config,
                resolver: resolver,
                discovery: ModelDiscovery(slots: slots, logger: logger),
                created: Int(Date().timeIntervalSince1970)
            ),
            readiness: HealthHandler(providers: config.providers, board: shared.health, ledger: shared.ledger, scrubber: scrubber),
            breakerStatus: BreakerStatusHandler(board: breakers),
            keysAdmin: KeysAdminHandler(
                keys: shared.keys,
                limiter: shared.limiter,
                ledger: shared.ledger,
                maxRequestBytes: config.server.maxRequestBytes
            ),
            keys: shared.keys,
            responseStore: ResponseStore(database: shared.ledger.database),
            breakers: breakers,
            accounting: accounting,
            probedProviders: slots.compactMap { name, slot in
                guard slot.config.locality == .local, let provider = slot.provider else { return nil }
                return (name, provider)
            }
            .sorted { $0.name < $1.name },
            dashboard: DashboardHandler(sessions: shared.dashboardSessions, masterKey: config.auth.masterKey.map { Array($0.utf8) }),
            tracer: shared.tracer,
            providerTypes: Dictionary(config.providers.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
        )
    }
}
