/// The human-readable report `multiprodigy check` prints for a valid configuration.
public struct ConfigSummary: Sendable {
    /// The report.
    public let text: String

    /// Describes `config`, read from `source`.
    public init(config: GatewayConfig, source: String) {
        var lines: [String] = ["\(source) is valid.", ""]
        lines.append("Server: listening on \(config.server.listen), requests up to \(config.server.maxRequestBytes) bytes")
        lines.append(config.auth.masterKey == nil ? "Auth: open (no master key set)" : "Auth: master key required")
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
            if let price = model.price { details.append("$\(price.input) in / $\(price.output) out per 1M tokens") }
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
