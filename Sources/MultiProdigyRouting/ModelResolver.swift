import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyPrivacy

/// Turns the client's `model` into a ``RouteDefinition``.
///
/// A `model` is, in this order of precedence, a declared model (`models:` key), a route (`routes:`
/// key), or `provider/model` naming any model of a configured provider. Lookups are dictionary hits
/// prepared once per configuration.
public struct ModelResolver: Sendable {
    private let definitions: [String: RouteDefinition]
    private let providers: [String: ProviderConfig]
    private let defaultTimeouts: TimeoutSettings
    private let defaultSplice: Bool
    /// How each declared model continues an answer, by model name; absent when it cannot.
    private let continuationStyles: [String: ContinuationStyle]
    /// The longest `model` part a `provider/model` name may have.
    public static let maximumModelNameBytes = 256
    /// Route names, in file order.
    public let routeNames: [String]
    /// Declared model names, in file order.
    public let modelNames: [String]

    /// Prepares the definitions of every route and declared model of `config`.
    public init(config: GatewayConfig) {
        var definitions: [String: RouteDefinition] = [:]
        let timeouts = config.resilience.timeouts
        let providers = Dictionary(config.providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func profile(_ name: String, isFallback: Bool) -> TargetProfile? {
            if let model = config.model(named: name), let provider = providers[model.provider] {
                return Self.profile(of: model, provider: provider, isFallback: isFallback)
            }
            return Self.providerModelProfile(name, providers: providers, isFallback: isFallback)
        }
        for route in config.routes {
            let profiles =
                route.targets.compactMap { profile($0, isFallback: false) } + route.fallback.compactMap { profile($0, isFallback: true) }
            definitions[route.name] = RouteDefinition(
                requestedName: route.name,
                routeName: route.name,
                policy: route.policy,
                weights: route.weights ?? .standard,
                profiles: profiles,
                timeouts: route.timeouts ?? timeouts,
                splicesContinuations: route.splice ?? config.resilience.splice
            )
        }
        for model in config.models {
            guard let provider = providers[model.provider] else { continue }
            definitions[model.name] = RouteDefinition(
                requestedName: model.name,
                routeName: nil,
                profiles: [Self.profile(of: model, provider: provider, isFallback: false)],
                timeouts: timeouts,
                splicesContinuations: config.resilience.splice
            )
        }
        self.definitions = definitions
        self.providers = providers
        var styles: [String: ContinuationStyle] = [:]
        for model in config.models {
            guard let provider = providers[model.provider] else { continue }
            styles[model.name] = ContinuationStyle(providerType: provider.type, declared: model.capabilities.contains(.continuation))
        }
        self.continuationStyles = styles
        self.defaultTimeouts = timeouts
        self.defaultSplice = config.resilience.splice
        self.routeNames = config.routes.map(\.name)
        self.modelNames = config.models.map(\.name)
    }

    /// The definition for `model`, or nil when it names nothing configured.
    public func definition(for model: String) -> RouteDefinition? {
        if let definition = definitions[model] { return definition }
        guard let profile = Self.providerModelProfile(model, providers: providers, isFallback: false) else { return nil }
        return RouteDefinition(
            requestedName: model,
            routeName: nil,
            profiles: [profile],
            timeouts: defaultTimeouts,
            splicesContinuations: defaultSplice
        )
    }

    /// The price `target` is charged at: its `price:`, else the built-in price of a well-known
    /// cloud model, else 0 for a local model; nil for a cloud model of unknown price.
    public func price(of target: RouteTarget) -> ModelPrice? {
        definition(for: target.name)?.profiles.first { $0.target == target }?.effectivePrice
    }

    /// How `target` continues an answer another target left unfinished, or nil when it cannot.
    ///
    /// A declared model follows its `supports:` list and its provider's `type`; a `provider/model`
    /// name declares nothing, so only a provider that prefills natively (`anthropic`) continues.
    public func continuationStyle(of target: RouteTarget) -> ContinuationStyle? {
        if let declared = continuationStyles[target.name] { return declared }
        // A declared model without it cannot continue, even on a provider that would by default.
        if modelNames.contains(target.name) { return nil }
        guard let provider = providers[target.providerName] else { return nil }
        return ContinuationStyle(providerType: provider.type, declared: false)
    }

    /// The 404 answered for a `model` that names nothing, listing what does exist.
    public func notFoundError(for model: String) -> GatewayError {
        var available: [String] = []
        if !routeNames.isEmpty { available.append("routes: \(routeNames.joined(separator: ", "))") }
        if !modelNames.isEmpty { available.append("models: \(modelNames.joined(separator: ", "))") }
        if !providers.isEmpty {
            available.append("or provider/model with a provider of: \(providers.keys.sorted().joined(separator: ", "))")
        }
        let listing = available.isEmpty ? "No models are configured." : "Available \(available.joined(separator: "; "))."
        return GatewayError(
            status: .notFound,
            message: "The model '\(EchoedName.shortened(model))' does not exist on this gateway. \(listing)",
            type: "invalid_request_error",
            param: "model",
            code: "model_not_found"
        )
    }

    private static func profile(of model: ModelConfig, provider: ProviderConfig, isFallback: Bool) -> TargetProfile {
        TargetProfile(
            target: RouteTarget(name: model.name, providerName: model.provider, upstreamModel: model.upstreamModel),
            locality: provider.locality,
            price: model.price ?? builtInPrice(model.upstreamModel, provider: provider),
            contextWindow: model.contextWindow,
            capabilities: model.capabilities.contains(where: \.isRequestable) ? model.capabilities : nil,
            latencyPrior: model.latencyPrior,
            weight: model.weight,
            outputFactor: model.outputFactor,
            nonStreaming: model.nonStreaming,
            isFallback: isFallback,
            disabledReason: provider.disabledReason
        )
    }

    /// The built-in price of a cloud model; a local model without a price costs nothing.
    private static func builtInPrice(_ upstreamModel: String, provider: ProviderConfig) -> ModelPrice? {
        guard provider.locality == .cloud else { return nil }
        return BuiltInPrices.price(providerType: provider.type, baseURL: provider.baseURL, model: upstreamModel)
    }

    private static func providerModelProfile(_ name: String, providers: [String: ProviderConfig], isFallback: Bool) -> TargetProfile? {
        guard let slash = name.firstIndex(of: "/") else { return nil }
        let providerName = String(name[..<slash])
        let model = String(name[name.index(after: slash)...])
        // A model name is an identifier, not a payload: a bound keeps what is echoed in headers small.
        guard let provider = providers[providerName], !model.isEmpty, model.utf8.count <= Self.maximumModelNameBytes else { return nil }
        return TargetProfile(
            target: RouteTarget(name: name, providerName: providerName, upstreamModel: model),
            locality: provider.locality,
            price: builtInPrice(model, provider: provider),
            isFallback: isFallback,
            disabledReason: provider.disabledReason
        )
    }
}
