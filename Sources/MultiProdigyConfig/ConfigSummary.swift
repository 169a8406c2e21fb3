import MultiProdigyJSON
import MultiProdigyPrivacy

/// The human-readable report `multiprodigy check` prints for a valid configuration.
public struct ConfigSummary: Sendable {
    /// The report.
    public let text: String

    /// Which price `model` is charged at, and where it comes from.
    static func describePrice(of model: ModelConfig, provider: ProviderConfig?) -> String {
        func text(_ price: ModelPrice) -> String {
            var parts = ["$\(price.input) in"]
            if let cached = price.cachedInput { parts.append("$\(cached) cached in") }
            if let written = price.cacheWrite { parts.append("$\(written) cache write") }
            parts.append("$\(price.output) out")
            if let reasoning = price.reasoning { parts.append("$\(reasoning) reasoning") }
            return parts.joined(separator: " / ") + " per 1M tokens"
        }
        if let price = model.price { return text(price) }
        guard let provider else { return "price unknown" }
        if provider.locality == .local { return "free (local, no price)" }
        if let builtIn = BuiltInPrices.price(providerType: provider.type, baseURL: provider.baseURL, model: model.upstreamModel) {
            return text(builtIn) + " (built-in, \(BuiltInPrices.asOf))"
        }
        return "price unknown: recorded at $0, ranked last by cost (add price:)"
    }

    /// Describes `config`, read from `source`.
    public init(config: GatewayConfig, source: String) {
        var lines: [String] = ["\(source) is valid.", ""]
        lines.append("Server: listening on \(config.server.listen), requests up to \(config.server.maxRequestBytes) bytes")
        lines.append(config.auth.masterKey == nil ? "Auth: open (no master key set)" : "Auth: master key required")
        lines.append(
            config.tracing.enabled
                ? "Tracing: OTLP/HTTP to \(config.tracing.loggableEndpoint), sample ratio \(config.tracing.sampleRatio), service \(config.tracing.serviceName)"
                : "Tracing: off"
        )
        lines.append("")
        let enabled = config.providers.filter(\.isEnabled).count
        lines.append("Providers (\(enabled) of \(config.providers.count) enabled):")
        for provider in config.providers {
            let state = provider.disabledReason.map { "disabled: \($0)" } ?? "enabled"
            lines.append("  \(provider.name)  type=\(provider.type)  \(provider.locality.rawValue)  \(provider.baseURL)  \(state)")
        }
        lines.append("")
        lines.append("Models (\(config.models.count)):")
        for model in config.models {
            var details = ["\(model.provider)/\(model.upstreamModel)"]
            if let context = model.contextWindow { details.append("context \(context)") }
            details.append(Self.describePrice(of: model, provider: config.providers.first { $0.name == model.provider }))
            if !model.capabilities.isEmpty {
                details.append("supports \(model.capabilities.map(\.rawValue).sorted().joined(separator: ", "))")
            }
            if let latency = model.latencyPrior {
                let milliseconds = latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000
                details.append("expected latency \(milliseconds) ms")
            }
            if model.weight != 1 { details.append("weight \(model.weight)") }
            lines.append("  \(model.name) -> \(details.joined(separator: ", "))")
        }
        lines.append("")
        lines.append("Routes (\(config.routes.count)):")
        for route in config.routes {
            var line = "  \(route.name) [\(route.policy.rawValue)]: \(route.targets.joined(separator: " -> "))"
            if !route.fallback.isEmpty { line += "; fallback: \(route.fallback.joined(separator: " -> "))" }
            lines.append(line)
        }
        text = lines.joined(separator: "\n")
    }
}
