import Foundation
import MultiProdigyJSON
import MultiProdigyPrivacy
import Yams

/// Walks a YAML node tree into a ``GatewayConfig``, collecting every ``ConfigIssue`` on the way.
struct ConfigReader {
    let interpolation: EnvironmentInterpolation
    private(set) var issues: [ConfigIssue] = []
    private var deferredRouteTimeouts: [(route: String, node: Node, path: String)] = []

    init(interpolation: EnvironmentInterpolation) {
        self.interpolation = interpolation
    }

    // MARK: Sections

    mutating func readGateway(_ root: Node?, providerTypes: ProviderCatalog) -> GatewayConfig {
        var config = GatewayConfig()
        guard let root, !isNull(root) else {
            report("", root, "the file is empty", "start from config/gateway.yaml, which lists every section")
            return config
        }
        guard let sections = mapping(root, path: "", allowed: Self.topLevelKeys) else { return config }
        for (key, value) in sections {
            switch key {
            case "server": config.server = readServer(value)
            case "auth": config.auth = readAuth(value)
            case "storage": readStorage(value, into: &config)
            case "providers": config.providers = readProviders(value, types: providerTypes)
            case "models": config.models = readModels(value)
            case "routes": config.routes = readRoutes(value)
            case "privacy": config.privacy = readPrivacy(value)
            case "resilience": config.resilience = readResilience(value, path: "resilience")
            case "tracing": config.tracing = readTracing(value)
            default: break
            }
        }
        for deferred in deferredRouteTimeouts {
            guard let index = config.routes.firstIndex(where: { $0.name == deferred.route }) else { continue }
            config.routes[index].timeouts = readTimeouts(deferred.node, path: deferred.path, defaults: config.resilience.timeouts)
        }
        crossCheck(config, sections: sections)
        return config
    }

    /// `storage:` as a URL, or as a mapping of `url`, `on_unavailable`, `journal` and `responses_retention`.
    private mutating func readStorage(_ node: Node, into config: inout GatewayConfig) {
        guard case .mapping = node else {
            config.storage = string(node, path: "storage") ?? config.storage
            return
        }
        guard let fields = mapping(node, path: "storage", allowed: ["url", "on_unavailable", "journal", "responses_retention"]) else {
            return
        }
        for (key, value) in fields {
            let path = "storage.\(key)"
            switch key {
            case "url": config.storage = string(value, path: path) ?? config.storage
            case "on_unavailable":
                guard let text = string(value, path: path) else { continue }
                if let mode = StorageSettings.UnavailableMode(rawValue: text.lowercased()) {
                    config.storageSettings.onUnavailable = mode
                } else {
                    report(
                        path,
                        value,
                        "'\(text)' is not a choice",
                        "use open (keep serving while the database is away) or closed (refuse requests of limited keys)"
                    )
                }
            case "journal":
                guard let text = string(value, path: path) else { continue }
                if text.trimmingWhitespace().isEmpty {
                    report(
                        path,
                        value,
                        "the journal folder is empty",
                        "name a folder, such as ./multiprodigy-usage-journal, or leave it out"
                    )
                } else {
                    config.storageSettings.journal = text
                }
            case "responses_retention": readResponsesRetention(value, path: path, into: &config.storageSettings)
            default: break
            }
        }
    }

    /// `storage.responses_retention:` a duration of at least a minute, or `off` (also `0`) to keep responses.
    private mutating func readResponsesRetention(_ node: Node, path: String, into settings: inout StorageSettings) {
        guard let text = string(node, path: path) else { return }
        let fix = "write a duration from 1m to 366d, such as 30d or 12h, or off to keep responses until their owner deletes them"
        if ["off", "0"].contains(text.trimmingWhitespace().lowercased()) {
            settings.responsesRetention = nil
        } else if let retention = ConfigValueParsing.duration(text) {
            if retention == .zero {
                settings.responsesRetention = nil
            } else if retention < StorageSettings.minimumResponsesRetention {
                report(path, node, "a retention of \(text) is shorter than a minute", fix)
            } else {
                settings.responsesRetention = retention
            }
        } else {
            report(path, node, "'\(text)' is not a duration", fix)
        }
    }

    private mutating func readServer(_ node: Node) -> ServerSettings {
        var settings = ServerSettings()
        let allowed = [
            "listen", "max_request_bytes", "max_response_bytes", "drain_timeout", "head_timeout", "body_timeout", "idle_timeout",
            "max_connections", "max_stream_transcript_bytes", "upstream_idle_timeout", "log_format",
        ]
        guard let fields = mapping(node, path: "server", allowed: allowed) else { return settings }
        for (key, value) in fields {
            let path = "server.\(key)"
            switch key {
            case "listen":
                guard let text = string(value, path: path) else { continue }
                if let address = ListenAddress(parsing: text) {
                    settings.listen = address
                } else {
                    report(path, value, "'\(text)' is not a host:port address", "write it as 127.0.0.1:4100 or [::1]:4100")
                }
            case "drain_timeout":
                settings.drainTimeout = duration(value, path: path) ?? settings.drainTimeout
            case "head_timeout", "body_timeout", "idle_timeout", "upstream_idle_timeout":
                guard let timeout = duration(value, path: path) else { continue }
                guard timeout > .zero else {
                    report(path, value, "a timeout must be longer than zero", "give a positive duration such as 30s")
                    continue
                }
                switch key {
                case "head_timeout": settings.headTimeout = timeout
                case "body_timeout": settings.bodyTimeout = timeout
                case "idle_timeout": settings.idleTimeout = timeout
                default: settings.upstreamIdleTimeout = timeout
                }
            case "max_connections":
                settings.maxConnections = positiveInt(value, path: path) ?? settings.maxConnections
            case "log_format":
                settings.logFormat = choice(value, path: path, isNot: "a log format", fix: "use text or json") ?? settings.logFormat
            case "max_request_bytes", "max_response_bytes", "max_stream_transcript_bytes":
                guard let size = byteSize(value, path: path) else { continue }
                switch key {
                case "max_request_bytes": settings.maxRequestBytes = size
                case "max_response_bytes": settings.maxResponseBytes = size
                default: settings.maxStreamTranscriptBytes = size
                }
            default: break
            }
        }
        return settings
    }

    private mutating func readAuth(_ node: Node) -> AuthSettings {
        var settings = AuthSettings()
        guard let fields = mapping(node, path: "auth", allowed: ["master_key"]) else { return settings }
        for (key, value) in fields where key == "master_key" {
            let key = string(value, path: "auth.master_key")
            settings.masterKey = (key?.isEmpty ?? true) ? nil : key
        }
        return settings
    }

    private mutating func readPrivacy(_ node: Node) -> PrivacySettings {
        var settings = PrivacySettings()
        guard let fields = mapping(node, path: "privacy", allowed: ["detect_pii"]) else { return settings }
        for (key, value) in fields where key == "detect_pii" {
            settings.detectPII = bool(value, path: "privacy.detect_pii") ?? settings.detectPII
        }
        return settings
    }

    /// `tracing:` whether to export spans, where, and what share of requests.
    private mutating func readTracing(_ node: Node) -> TracingSettings {
        var settings = TracingSettings()
        guard let fields = mapping(node, path: "tracing", allowed: ["enabled", "endpoint", "sample_ratio", "service_name"]) else {
            return settings
        }
        for (key, value) in fields {
            let path = "tracing.\(key)"
            switch key {
            case "enabled":
                settings.enabled = bool(value, path: path) ?? settings.enabled
            case "endpoint":
                guard let text = string(value, path: path) else { continue }
                let url = text.trimmingWhitespace()
                let lowered = url.lowercased()
                let scheme = lowered.hasPrefix("https://") ? "https://" : lowered.hasPrefix("http://") ? "http://" : nil
                if let scheme, url.count > scheme.count, !url.contains(where: { $0 == " " || $0 == "\n" }) {
                    settings.endpoint = url
                } else {
                    report(
                        path,
                        value,
                        "'\(TracingSettings.loggable(text))' is not an http or https URL",
                        "write the OTLP/HTTP traces URL of your collector, such as \(TracingSettings.defaultEndpoint)"
                    )
                }
            case "sample_ratio":
                guard let text = string(value, path: path) else { continue }
                if let ratio = Double(text), ratio.isFinite, (0...1).contains(ratio) {
                    settings.sampleRatio = ratio
                } else {
                    report(
                        path,
                        value,
                        "'\(text)' is not a ratio from 0 to 1",
                        "write a number from 0 (no request traced) to 1 (every request), such as 0.1"
                    )
                }
            case "service_name":
                guard let text = string(value, path: path) else { continue }
                if text.trimmingWhitespace().isEmpty {
                    report(path, value, "the service name is empty", "name the service, such as multiprodigy, or leave the key out")
                } else {
                    settings.serviceName = text
                }
            default: break
            }
        }
        return settings
    }

    private mutating func readProviders(_ node: Node, types: ProviderCatalog) -> [ProviderConfig] {
        let knownTypes = types.typeNames
        guard let entries = mapping(node, path: "providers", allowed: nil) else { return [] }
        var providers: [ProviderConfig] = []
        for (name, value) in entries {
            let path = "providers.\(name)"
            if name.contains("/") {
                report(path, value, "a provider name cannot contain '/'", "rename it; clients address its models as \"provider/model\"")
            }
            guard let fields = mapping(value, path: path, allowed: Self.providerKeys) else { continue }
            var type: String?
            var baseURL: String?
            var apiKey: String?
            var disabledReason: String?
            var locality: Locality?
            var headers: [String: String] = [:]
            var caFile: String?
            var optionsNode: Node?
            for (key, field) in fields {
                let fieldPath = "\(path).\(key)"
                switch key {
                case "type": type = string(field, path: fieldPath)
                case "base_url": baseURL = string(field, path: fieldPath)
                case "api_key":
                    guard let expansion = expand(field, path: fieldPath) else { continue }
                    if !expansion.unsetVariables.isEmpty {
                        let names = expansion.unsetVariables.joined(separator: ", ")
                        disabledReason = "\(names) is not set (needed by \(fieldPath))"
                    } else if expansion.value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                        report(
                            fieldPath,
                            field,
                            "the key contains a control character (often a trailing newline from a secret file)",
                            "strip the newline from the variable or file that holds the key"
                        )
                    } else if !expansion.value.isEmpty {
                        apiKey = expansion.value
                    }
                case "locality":
                    guard let text = string(field, path: fieldPath) else { continue }
                    locality = Locality(rawValue: text)
                    if locality == nil {
                        report(
                            fieldPath,
                            field,
                            "'\(text)' is not a locality",
                            "use 'local' (your own machines) or 'cloud' (a third party)"
                        )
                    }
                case "headers": headers = stringMap(field, path: fieldPath)
                case "ca_file":
                    guard let path = string(field, path: fieldPath) else { continue }
                    if !FileManager.default.isReadableFile(atPath: path) {
                        report(
                            fieldPath,
                            field,
                            "'\(path)' is not a readable file",
                            "give the path of a PEM file holding the CA certificates the upstream's certificate chains to"
                        )
                    }
                    caFile = path
                case "options": optionsNode = field
                default: break
                }
            }
            guard let type else {
                report(
                    path,
                    value,
                    "the provider has no 'type'",
                    "add `type: openai` (or another registered type: \(knownTypes.sorted().joined(separator: ", ")))"
                )
                continue
            }
            guard knownTypes.contains(type) else {
                let hint = ConfigValueParsing.suggestion(for: type, among: knownTypes).map { " (did you mean '\($0)'?)" } ?? ""
                report(
                    "\(path).type",
                    fields.first { $0.key == "type" }?.value ?? value,
                    "'\(type)' is not a provider type this build supports\(hint)",
                    "use one of: \(knownTypes.sorted().joined(separator: ", ")); any OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama's /v1) works with `type: openai`"
                )
                continue
            }
            let options =
                optionsNode.map { readOptions($0, path: "\(path).options", type: type, schema: types.entries[type]?.options) } ?? [:]
            let defaultURL = types.entries[type]?.defaultBaseURL
            guard let url = baseURL ?? defaultURL else {
                report(path, value, "the provider has no 'base_url'", "add the API root, such as `base_url: http://127.0.0.1:8000/v1`")
                continue
            }
            if !(url.hasPrefix("http://") || url.hasPrefix("https://")) || url.count < 10 {
                report(
                    "\(path).base_url",
                    fields.first { $0.key == "base_url" }?.value ?? value,
                    "'\(url)' is not an http(s) URL",
                    "write it as http://host:port/v1 or https://host/v1"
                )
            }
            if caFile != nil, !url.hasPrefix("https://") {
                report(
                    "\(path).ca_file",
                    fields.first { $0.key == "ca_file" }?.value ?? value,
                    "ca_file applies to https upstreams only, and base_url is '\(url)'",
                    "remove ca_file, or use the upstream's https URL"
                )
            }
            providers.append(
                ProviderConfig(
                    name: name,
                    type: type,
                    baseURL: url,
                    apiKey: apiKey,
                    locality: locality ?? (Self.isLoopback(url) ? .local : .cloud),
                    headers: headers,
                    caFile: caFile,
                    options: options,
                    disabledReason: disabledReason
                )
            )
        }
        return providers
    }

    /// A provider's `options:`, typed by its type's schema; a type without one takes any, as text.
    private mutating func readOptions(_ node: Node, path: String, type: String, schema: ProviderOptionSchema?) -> ProviderOptions {
        guard let pairs = mapping(node, path: path, allowed: nil) else { return [:] }
        var options = ProviderOptions()
        for (key, value) in pairs {
            let optionPath = "\(path).\(key)"
            if let refusal = schema?.check(name: key, type: type) {
                report(optionPath, value, refusal.problem, refusal.fix)
                continue
            }
            guard let text = string(value, path: optionPath) else { continue }
            guard let schema else {
                options[key] = .string(text)
                continue
            }
            switch schema.read(.string(text), for: key, type: type) {
            case .success(let typed): options[key] = typed
            case .failure(let refusal): report(optionPath, value, refusal.problem, refusal.fix)
            }
        }
        return options
    }

    private mutating func readModels(_ node: Node) -> [ModelConfig] {
        guard let entries = mapping(node, path: "models", allowed: nil) else { return [] }
        var models: [ModelConfig] = []
        for (name, value) in entries {
            let path = "models.\(name)"
            guard let fields = mapping(value, path: path, allowed: Self.modelKeys) else { continue }
            var model = ModelConfig(name: name, provider: "")
            for (key, field) in fields {
                let fieldPath = "\(path).\(key)"
                switch key {
                case "provider": model.provider = string(field, path: fieldPath) ?? ""
                case "model": model.upstreamModel = string(field, path: fieldPath) ?? name
                case "context": model.contextWindow = positiveInt(field, path: fieldPath)
                case "price": model.price = readPrice(field, path: fieldPath)
                case "latency": model.latencyPrior = duration(field, path: fieldPath)
                case "weight":
                    guard let weight = positiveDouble(field, path: fieldPath) else { continue }
                    if weight > 1_000_000 {
                        report(
                            fieldPath,
                            field,
                            "weight \(weight) is too large",
                            "use a relative share between 0.001 and 1000000, such as 1 or 3"
                        )
                    } else {
                        model.weight = weight
                    }
                case "output_factor":
                    guard let factor = positiveDouble(field, path: fieldPath) else { continue }
                    if factor < 0.01 || factor > 100 {
                        report(
                            fieldPath,
                            field,
                            "output_factor \(factor) is out of range",
                            "use how many times longer this model's answers run than others', between 0.01 and 100, such as 3"
                        )
                    } else {
                        model.outputFactor = factor
                    }
                case "non_streaming":
                    model.nonStreaming =
                        choice(
                            field,
                            path: fieldPath,
                            isNot: "a way to call a model",
                            fix:
                                "use assembled (ask for a stream and assemble the answer; the default) or direct (for a server that cannot stream)"
                        ) ?? model.nonStreaming
                case "supports":
                    for (index, item) in stringList(field, path: fieldPath).enumerated() {
                        if let capability = ModelCapability(rawValue: item.value) {
                            model.capabilities.insert(capability)
                        } else {
                            report(
                                "\(fieldPath)[\(index)]",
                                item.node,
                                "'\(item.value)' is not a capability",
                                "use any of: \(ModelCapability.allCases.map(\.rawValue).joined(separator: ", "))"
                            )
                        }
                    }
                default: break
                }
            }
            if model.provider.isEmpty {
                report(path, value, "the model has no 'provider'", "add `provider:` naming an entry under providers:")
            }
            models.append(model)
        }
        return models
    }

    private mutating func readPrice(_ node: Node, path: String) -> ModelPrice? {
        guard let fields = mapping(node, path: path, allowed: ["input", "output", "cached_input", "cache_write", "reasoning"]) else {
            return nil
        }
        var price = ModelPrice(input: 0, output: 0)
        var given: Set<String> = []
        for (key, value) in fields {
            let amount = nonNegativeDouble(value, path: "\(path).\(key)")
            given.insert(key)
            switch key {
            case "input": price.input = amount ?? 0
            case "output": price.output = amount ?? 0
            case "cached_input": price.cachedInput = amount
            case "reasoning": price.reasoning = amount
            case "cache_write": price.cacheWrite = amount
            default: break
            }
        }
        // A price without input or output would make the model free by accident.
        for required in ["input", "output"] where !given.contains(required) {
            report(
                path,
                node,
                "the price has no '\(required)'",
                "give both input and output in USD per 1M tokens, such as {input: 0.15, output: 0.60}"
            )
        }
        return price
    }

    private mutating func readWeights(_ node: Node, path: String) -> BalancedWeights? {
        guard let fields = mapping(node, path: path, allowed: ["cost", "latency"]) else { return nil }
        var weights = BalancedWeights(cost: 0, latency: 0)
        for (key, value) in fields {
            let weight = nonNegativeDouble(value, path: "\(path).\(key)") ?? 0
            if key == "cost" { weights.cost = weight } else { weights.latency = weight }
        }
        guard weights.cost + weights.latency > 0 else {
            report(path, node, "the weights add up to zero", "give cost or latency a positive weight, such as {cost: 0.7, latency: 0.3}")
            return nil
        }
        return weights
    }

    private mutating func readRoutes(_ node: Node) -> [RouteConfig] {
        guard let entries = mapping(node, path: "routes", allowed: nil) else { return [] }
        var routes: [RouteConfig] = []
        for (name, value) in entries {
            let path = "routes.\(name)"
            guard let fields = mapping(value, path: path, allowed: Self.routeKeys) else { continue }
            var route = RouteConfig(name: name, targets: [])
            for (key, field) in fields {
                let fieldPath = "\(path).\(key)"
                switch key {
                case "policy":
                    route.policy =
                        choice(
                            field,
                            path: fieldPath,
                            isNot: "a routing policy",
                            fix: "use one of: \(RoutingPolicy.allCases.map(\.rawValue).joined(separator: ", "))"
                        ) ?? route.policy
                case "targets": route.targets = stringList(field, path: fieldPath).map(\.value)
                case "fallback": route.fallback = stringList(field, path: fieldPath).map(\.value)
                case "weights":
                    route.weights = readWeights(field, path: fieldPath)
                case "resilience":
                    if let block = mapping(field, path: fieldPath, allowed: ["timeouts", "splice"]) {
                        for (blockKey, blockValue) in block {
                            if blockKey == "splice" {
                                route.splice = bool(blockValue, path: "\(fieldPath).splice")
                                continue
                            }
                            // Read once every section is known: these override `resilience.timeouts`.
                            deferredRouteTimeouts.append((route: name, node: blockValue, path: "\(fieldPath).timeouts"))
                        }
                    }
                default: break
                }
            }
            if route.targets.isEmpty {
                report(
                    path,
                    value,
                    "the route has no targets",
                    "add `targets: [model-name, ...]` listing declared models or provider/model names"
                )
            }
            routes.append(route)
        }
        return routes
    }

    mutating func readResilience(_ node: Node, path: String) -> ResilienceSettings {
        var settings = ResilienceSettings()
        guard let fields = mapping(node, path: path, allowed: ["timeouts", "retry", "breaker", "health_check", "splice"]) else {
            return settings
        }
        for (key, value) in fields {
            let fieldPath = "\(path).\(key)"
            switch key {
            case "timeouts":
                settings.timeouts = readTimeouts(value, path: fieldPath, defaults: settings.timeouts)
            case "retry":
                guard let retry = mapping(value, path: fieldPath, allowed: ["max_attempts_per_target", "max_retry_after"]) else { continue }
                for (retryKey, retryValue) in retry {
                    if retryKey == "max_attempts_per_target" {
                        settings.retry.maxAttemptsPerTarget =
                            positiveInt(retryValue, path: "\(fieldPath).\(retryKey)") ?? settings.retry.maxAttemptsPerTarget
                    } else {
                        settings.retry.maxRetryAfter =
                            duration(retryValue, path: "\(fieldPath).\(retryKey)") ?? settings.retry.maxRetryAfter
                    }
                }
            case "breaker":
                guard let breaker = mapping(value, path: fieldPath, allowed: ["failure_threshold", "cooldown"]) else { continue }
                for (breakerKey, breakerValue) in breaker {
                    if breakerKey == "failure_threshold" {
                        settings.breaker.failureThreshold =
                            positiveInt(breakerValue, path: "\(fieldPath).\(breakerKey)") ?? settings.breaker.failureThreshold
                    } else {
                        settings.breaker.cooldown = duration(breakerValue, path: "\(fieldPath).\(breakerKey)") ?? settings.breaker.cooldown
                    }
                }
            case "splice":
                settings.splice = bool(value, path: fieldPath) ?? settings.splice
            case "health_check":
                guard let health = mapping(value, path: fieldPath, allowed: ["interval"]) else { continue }
                for (_, interval) in health {
                    settings.healthCheckInterval = duration(interval, path: "\(fieldPath).interval") ?? settings.healthCheckInterval
                }
            default: break
            }
        }
        return settings
    }

    private mutating func readTimeouts(_ node: Node, path: String, defaults: TimeoutSettings) -> TimeoutSettings {
        var timeouts = defaults
        guard let fields = mapping(node, path: path, allowed: ["connect", "first_byte", "first_token", "stall", "total"]) else {
            return timeouts
        }
        for (key, value) in fields {
            guard let amount = duration(value, path: "\(path).\(key)") else { continue }
            if amount <= .zero {
                report("\(path).\(key)", value, "a timeout must be longer than zero", "give a positive duration such as 30s")
                continue
            }
            switch key {
            case "connect": timeouts.connect = amount
            case "first_byte": timeouts.firstByte = amount
            case "first_token": timeouts.firstToken = amount
            case "stall": timeouts.stall = amount
            case "total": timeouts.total = amount
            default: break
            }
        }
        return timeouts
    }

    // MARK: Cross-references

    private mutating func crossCheck(_ config: GatewayConfig, sections: [(key: String, value: Node)]) {
        let providerNames = config.providers.map(\.name)
        let modelNames = config.models.map(\.name)
        let modelsNode = sections.first { $0.key == "models" }?.value
        for model in config.models where !model.provider.isEmpty && config.provider(named: model.provider) == nil {
            let node = modelsNode.flatMap { child($0, model.name) }.flatMap { child($0, "provider") }
            let hint = ConfigValueParsing.suggestion(for: model.provider, among: providerNames).map { " (did you mean '\($0)'?)" } ?? ""
            report(
                "models.\(model.name).provider",
                node,
                "'\(model.provider)' is not a configured provider\(hint)",
                providerNames.isEmpty ? "declare it under providers:" : "use one of: \(providerNames.joined(separator: ", "))"
            )
        }
        let routesNode = sections.first { $0.key == "routes" }?.value
        for route in config.routes {
            if config.model(named: route.name) != nil {
                report(
                    "routes.\(route.name)",
                    routesNode.flatMap { child($0, route.name) },
                    "'\(route.name)' is both a route and a model, so a request for it would be ambiguous",
                    "rename the route or the model"
                )
            }
            for (list, names) in [("targets", route.targets), ("fallback", route.fallback)] {
                for (index, target) in names.enumerated() where !isResolvable(target, config: config) {
                    let node = routesNode.flatMap { child($0, route.name) }.flatMap { child($0, list) }.flatMap { element($0, index) }
                    let hint = ConfigValueParsing.suggestion(for: target, among: modelNames).map { " (did you mean '\($0)'?)" } ?? ""
                    report(
                        "routes.\(route.name).\(list)[\(index)]",
                        node,
                        "'\(target)' is neither a declared model nor provider/model\(hint)",
                        modelNames.isEmpty
                            ? "declare it under models:, or write provider/model with a configured provider"
                            : "use one of: \(modelNames.joined(separator: ", ")), or provider/model with a configured provider"
                    )
                }
            }
        }
    }

    private func isResolvable(_ target: String, config: GatewayConfig) -> Bool {
        if config.model(named: target) != nil { return true }
        guard let slash = target.firstIndex(of: "/") else { return false }
        return config.provider(named: String(target[..<slash])) != nil && target.index(after: slash) < target.endIndex
    }

    // MARK: Node helpers

    private static let topLevelKeys = ["server", "auth", "storage", "providers", "models", "routes", "privacy", "resilience", "tracing"]
    private static let providerKeys = ["type", "base_url", "api_key", "locality", "headers", "ca_file", "options"]
    private static let modelKeys = [
        "provider", "model", "price", "context", "supports", "latency", "weight", "output_factor", "non_streaming",
    ]
    private static let routeKeys = ["policy", "targets", "fallback", "weights", "resilience"]

    private static func isLoopback(_ url: String) -> Bool {
        let host = url.split(separator: "/").dropFirst().first.map { $0.split(separator: ":").first.map(String.init) ?? "" } ?? ""
        return host == "localhost" || host.hasPrefix("127.") || url.contains("://[::1]")
    }

    mutating func report(_ path: String, _ node: Node?, _ problem: String, _ fix: String) {
        issues.append(ConfigIssue(path: path, line: node?.mark?.line, problem: problem, fix: fix))
    }

    private func isNull(_ node: Node) -> Bool {
        if case .scalar(let scalar) = node { return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string) }
        return false
    }

    private func child(_ node: Node, _ key: String) -> Node? {
        node.mapping?.first { $0.key.scalar?.string == key }?.value
    }

    private func element(_ node: Node, _ index: Int) -> Node? {
        guard let sequence = node.sequence, index < sequence.count else { return nil }
        return sequence[index]
    }

    /// The pairs of a mapping; reports unknown keys when `allowed` is given.
    private mutating func mapping(_ node: Node, path: String, allowed: [String]?) -> [(key: String, value: Node)]? {
        if isNull(node) { return [] }
        guard let mapping = node.mapping else {
            report(
                path,
                node,
                "expected a mapping of keys to values",
                "indent the entries under '\(path.isEmpty ? "the top level" : path)' as key: value pairs"
            )
            return nil
        }
        var pairs: [(key: String, value: Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                report(path, keyNode, "a key must be a plain string", "write the key as text")
                continue
            }
            if let allowed, !allowed.contains(key) {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                let hint = ConfigValueParsing.suggestion(for: key, among: allowed).map { "did you mean '\($0)'? " } ?? ""
                report(childPath, keyNode, "unknown key '\(key)'", "\(hint)Known keys here: \(allowed.joined(separator: ", "))")
                continue
            }
            pairs.append((key, value))
        }
        return pairs
    }

    private mutating func expand(_ node: Node, path: String) -> EnvironmentInterpolation.Expansion? {
        guard case .scalar(let scalar) = node else {
            report(path, node, "expected a single value", "write a plain value, not a list or mapping")
            return nil
        }
        do {
            return try interpolation.expand(scalar.string)
        } catch {
            report(path, node, error.message, "write ${NAME} or ${NAME:-default}")
            return nil
        }
    }

    /// One of `Value`'s cases by its name, or nil after reporting the name as not `noun` (with the
    /// closest case as a "did you mean" hint) and `fix`.
    private mutating func choice<Value: CaseIterable & RawRepresentable<String>>(
        _ node: Node,
        path: String,
        isNot noun: String,
        fix: String
    ) -> Value? {
        guard let text = string(node, path: path) else { return nil }
        if let value = Value(rawValue: text) { return value }
        let hint = ConfigValueParsing.suggestion(for: text, among: Value.allCases.map(\.rawValue)).map { " (did you mean '\($0)'?)" } ?? ""
        report(path, node, "'\(text)' is not \(noun)\(hint)", fix)
        return nil
    }

    /// A scalar's text after `${VAR}` expansion; unset variables without default are errors here.
    private mutating func string(_ node: Node, path: String) -> String? {
        guard let expansion = expand(node, path: path) else { return nil }
        if let missing = expansion.unsetVariables.first {
            report(
                path,
                node,
                "the environment variable \(missing) is not set",
                "set \(missing), or give a default with ${\(missing):-value}"
            )
            return nil
        }
        return expansion.value
    }

    private mutating func stringList(_ node: Node, path: String) -> [(value: String, node: Node)] {
        if isNull(node) { return [] }
        guard let sequence = node.sequence else {
            report(path, node, "expected a list", "write a list such as [a, b] or one '- item' per line")
            return []
        }
        var values: [(value: String, node: Node)] = []
        for (index, item) in sequence.enumerated() {
            if let value = string(item, path: "\(path)[\(index)]") { values.append((value, item)) }
        }
        return values
    }

    private mutating func stringMap(_ node: Node, path: String) -> [String: String] {
        guard let pairs = mapping(node, path: path, allowed: nil) else { return [:] }
        var map: [String: String] = [:]
        for (key, value) in pairs {
            if let text = string(value, path: "\(path).\(key)") { map[key] = text }
        }
        return map
    }

    private mutating func bool(_ node: Node, path: String) -> Bool? {
        guard let text = string(node, path: path) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(path, node, "'\(text)' is not true or false", "write true or false")
            return nil
        }
    }

    private mutating func positiveInt(_ node: Node, path: String) -> Int? {
        guard let text = string(node, path: path) else { return nil }
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")), value > 0 else {
            report(path, node, "'\(text)' is not a positive whole number", "write a number such as 128000")
            return nil
        }
        return value
    }

    private mutating func nonNegativeDouble(_ node: Node, path: String) -> Double? {
        guard let text = string(node, path: path) else { return nil }
        guard let value = Double(text), value >= 0, value.isFinite else {
            report(path, node, "'\(text)' is not a non-negative number", "write a number such as 0.15")
            return nil
        }
        return value
    }

    private mutating func positiveDouble(_ node: Node, path: String) -> Double? {
        guard let text = string(node, path: path) else { return nil }
        guard let value = Double(text), value > 0, value.isFinite else {
            report(path, node, "'\(text)' is not a positive number", "write a number such as 1 or 2.5")
            return nil
        }
        return value
    }

    private mutating func duration(_ node: Node, path: String) -> Duration? {
        guard let text = string(node, path: path) else { return nil }
        guard let value = ConfigValueParsing.duration(text) else {
            report(path, node, "'\(text)' is not a duration", "write a number with a unit, at most a year: 250ms, 30s, 5m or 1h")
            return nil
        }
        return value
    }

    private mutating func byteSize(_ node: Node, path: String) -> Int? {
        guard let text = string(node, path: path) else { return nil }
        guard let value = ConfigValueParsing.byteSize(text) else {
            report(path, node, "'\(text)' is not a size", "write a size up to 1TiB, such as 8MiB, 512KiB or a byte count")
            return nil
        }
        return value
    }
}
