import MultiProdigyConfig
import MultiProdigyCore
import Synchronization

/// The provider types the gateway can build, by the `type:` name used in the config.
///
/// Built-in types are registered from the start; register your own before loading the config:
///
/// ```swift
/// ProviderRegistry.register("my_model") { config, context in
///     MyModelClient(baseURL: config.baseURL, client: context.httpClient)
/// }
/// ```
public enum ProviderRegistry {
    /// Builds a provider from its configuration.
    public typealias Factory = @Sendable (ProviderConfig, ProviderContext) throws -> any LLMProvider

    private struct Entry: Sendable {
        var defaultBaseURL: String?
        var factory: Factory
    }

    private static let entries = Mutex<[String: Entry]>([
        "openai": Entry(defaultBaseURL: "https://api.openai.com/v1") { config, context in
            OpenAICompatibleProvider(config: config, context: context)
        },
        "huggingface": Entry(defaultBaseURL: "https://router.huggingface.co/v1") { config, context in
            HuggingFaceProvider(config: config, context: context)
        },
        "anthropic": Entry(defaultBaseURL: AnthropicProvider.defaultBaseURL) { config, context in
            try AnthropicProvider(config: config, context: context)
        },
        "gemini": Entry(defaultBaseURL: "https://generativelanguage.googleapis.com") { config, context in
            GeminiProvider(config: config, context: context)
        },
        "ollama": Entry(defaultBaseURL: OllamaProvider.defaultBaseURL) { config, context in
            try OllamaProvider(config: config, context: context)
        },
    ])

    /// Registers (or replaces) the provider type `type`.
    ///
    /// - Parameters:
    ///   - type: The name used as `type:` in the config.
    ///   - defaultBaseURL: The `base_url` used when the config gives none.
    ///   - factory: Builds a provider from its configuration.
    public static func register(_ type: String, defaultBaseURL: String? = nil, factory: @escaping Factory) {
        entries.withLock { $0[type] = Entry(defaultBaseURL: defaultBaseURL, factory: factory) }
    }

    /// Every registered type name.
    public static var registeredTypes: Set<String> {
        entries.withLock { Set($0.keys) }
    }

    /// The registered types with what the config reader checks for each: pass it to
    /// ``ConfigLoader/init(environment:providerTypes:)``.
    public static var catalog: ProviderCatalog {
        entries.withLock { entries in
            ProviderCatalog(entries.mapValues { ProviderCatalog.Entry(defaultBaseURL: $0.defaultBaseURL) })
        }
    }

    /// The default `base_url` of `type`, if it has one.
    public static func defaultBaseURL(forType type: String) -> String? {
        entries.withLock { $0[type]?.defaultBaseURL }
    }

    /// Builds the provider for `config`.
    ///
    /// - Throws: ``ConfigError`` when the type is not registered, or what the factory throws.
    public static func makeProvider(for config: ProviderConfig, context: ProviderContext) throws -> any LLMProvider {
        guard let entry = entries.withLock({ $0[config.type] }) else {
            throw ConfigError(
                source: "providers.\(config.name)",
                issues: [
                    ConfigIssue(
                        path: "providers.\(config.name).type",
                        line: nil,
                        problem: "'\(config.type)' is not registered",
                        fix: "register it with ProviderRegistry.register"
                    )
                ]
            )
        }
        return try entry.factory(config, context)
    }
}
