/// Turns the client's `model` into a ``RoutePlan``.
///
/// A `model` is, in this order of precedence, a declared model (`models:` key), a route (`routes:`
/// key), or `provider/model` naming any model of a configured provider. Lookups are dictionary hits
/// prepared once per configuration.
public struct ModelResolver: Sendable {
    private let plans: [String: RoutePlan]
    private let providerNames: Set<String>
    private let defaultTimeouts: TimeoutSettings
    /// Route names, in file order.
    public let routeNames: [String]
    /// Declared model names, in file order.
    public let modelNames: [String]

    /// Prepares the plans of every route and declared model of `config`.
    public init(config: GatewayConfig) {
        var plans: [String: RoutePlan] = [:]
        let timeouts = config.resilience.timeouts
        func target(_ name: String) -> RouteTarget? {
            if let model = config.model(named: name) {
                return RouteTarget(name: model.name, providerName: model.provider, upstreamModel: model.upstreamModel)
            }
            return Self.providerModelTarget(name, providers: Set(config.providers.map(\.name)))
        }
        for route in config.routes {
            let targets = (route.targets + route.fallback).compactMap(target)
            plans[route.name] = RoutePlan(routeName: route.name, targets: targets, timeouts: route.timeouts ?? timeouts)
        }
        for model in config.models {
            plans[model.name] = RoutePlan(
                routeName: nil,
                targets: [RouteTarget(name: model.name, providerName: model.provider, upstreamModel: model.upstreamModel)],
                timeouts: timeouts
            )
        }
        self.plans = plans
        self.providerNames = Set(config.providers.map(\.name))
        self.defaultTimeouts = timeouts
        self.routeNames = config.routes.map(\.name)
        self.modelNames = config.models.map(\.name)
    }

    /// The plan for `model`, or nil when it names nothing configured.
    public func plan(for model: String) -> RoutePlan? {
        if let plan = plans[model] { return plan }
        guard let target = Self.providerModelTarget(model, providers: providerNames) else { return nil }
        return RoutePlan(routeName: nil, targets: [target], timeouts: defaultTimeouts)
    }

    /// The 404 answered for a `model` that names nothing, listing what does exist.
    public func notFoundError(for model: String) -> GatewayError {
        var available: [String] = []
        if !routeNames.isEmpty { available.append("routes: \(routeNames.joined(separator: ", "))") }
        if !modelNames.isEmpty { available.append("models: \(modelNames.joined(separator: ", "))") }
        if !providerNames.isEmpty {
            available.append("or provider/model with a provider of: \(providerNames.sorted().joined(separator: ", "))")
        }
        let listing = available.isEmpty ? "No models are configured." : "Available \(available.joined(separator: "; "))."
        return GatewayError(
            status: .notFound,
            message: "The model '\(model)' does not exist on this gateway. \(listing)",
            type: "invalid_request_error",
            param: "model",
            code: "model_not_found"
        )
    }

    private static func providerModelTarget(_ name: String, providers: Set<String>) -> RouteTarget? {
        guard let slash = name.firstIndex(of: "/") else { return nil }
        let provider = String(name[..<slash])
        let model = String(name[name.index(after: slash)...])
        guard providers.contains(provider), !model.isEmpty else { return nil }
        return RouteTarget(name: name, providerName: provider, upstreamModel: model)
    }
}
