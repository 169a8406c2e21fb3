import MultiProdigyConfig
import MultiProdigyCore
import Synchronization

/// The provider types the gateway can build, by the `type:` name used in the config.
///
/// Built-in types are registered from the start, each with the `options:` it accepts; register your
/// own before loading the config:
///
/// ```swift
/// let flavour = ProviderOptionSpec("flavour", .oneOf(["small", "large"]), default: "small", summary: "which model size")
/// ProviderRegistry.register("my_model", options: [flavour]) { config, context in
///     MyModelClient(baseURL: config.baseURL, flavour: config.options.string("flavour") ?? "small", client: context.httpClient)
/// }
/// ```
///
/// A type registered without an options schema accepts any `options:`, as text
/// (`config.options.string("name")`); with one, the config reader checks each option's name and
/// kind like every other key, and the factory gets typed values.
public enum ProviderRegistry {
    /// Builds a provider from its configuration.
    public typealias Factory = @Sendable (ProviderConfig, ProviderContext) throws -> any LLMProvider

    private struct Entry: Sendable {
        var defaultBaseURL: String?
        var options: ProviderOptionSchema?
        var factory: Factory
    }

    private static let entries = Mutex<[String: Entry]>([
        "openai": Entry(defaultBaseURL: "https://api.openai.com/v1", options: OpenAICompatibleProvider.optionSchema) { config, context in
            try OpenAICompatibleProvider(config: config, context: context)
        },
        "huggingface": Entry(defaultBaseURL: "https://router.huggingface.co/v1", options: HuggingFaceProvider.optionSchema) {
            config,
            context in
            try HuggingFaceProvider(config: config, context: context)
        },
        "anthropic": Entry(defaultBaseURL: AnthropicProvider.defaultBaseURL, options: AnthropicProvider.optionSchema) { config, context in
            try AnthropicProvider(config: config, context: context)
        },
        "gemini": Entry(defaultBaseURL: "https://generativelanguage.googleapis.com", options: GeminiProvider.optionSchema) {
            config,
            context in
            try GeminiProvider(config: config, context: context)
        },
        "ollama": Entry(defaultBaseURL: OllamaProvider.defaultBaseURL, options: OllamaProvider.optionSchema) { config, context in
            try OllamaProvider(config: config, context: context)
        },
    ])

    /// Registers (or replaces) the provider type `type`.
    ///
    /// - Parameters:
    ///   - type: The name used as `type:` in the config.
    ///   - defaultBaseURL: The `base_url` used when the config gives none.
    ///   - options: The `options:` the type accepts, checked and typed by the config reader; nil (the
    ///     default) accepts any options, as text.
    ///   - factory: Builds a provider from its configuration.
    public static func register(
        _ type: String,
        defaultBaseURL: String? = nil,
        options: ProviderOptionSchema? = nil,
        factory: @escaping Factory
    ) {
        entries.withLock { $0[type] = Entry(defaultBaseURL: defaultBaseURL, options: options, factory: factory) }
    }

    /// Every registered type name.
    public static var registeredTypes: Set<String> {
        entries.withLock { Set($0.keys) }
    }

    /// The registered types with what the config reader checks for each: pass it to
    /// ``ConfigLoader/init(environment:providerTypes:)``.
    public static var catalog: ProviderCatalog {
        entries.withLock { entries in
            ProviderCatalog(entries.mapValues { ProviderCatalog.Entry(defaultBaseURL: $0.defaultBaseURL, options: $0.options) })
        }
    }

    /// The default `base_url` of `type`, if it has one.
    public static func defaultBaseURL(forType type: String) -> String? {
        entries.withLock { $0[type]?.defaultBaseURL }
    }

    /// Builds the provider for `config`.
    ///
    /// A configuration the reader did not read (one built in code) has its options typed by the
    /// type's schema first, so the factory always gets typed values.
    ///
    /// - Throws: ``ConfigError`` when the type is not registered or an option does not fit its
    ///   schema, or what the factory throws.
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
        var config = config
        if let schema = entry.options { config.options = try schema.validate(config.options, provider: config.name, type: config.type) }
        return try entry.factory(config, context)
    }
}
