/// The provider types a configuration may name, and what the reader needs to check each one.
///
/// The reader never looks provider types up itself: the Providers layer supplies the catalogue of
/// built-in and registered types (`ProviderRegistry.catalog`), and a test may pass its own.
///
/// ```swift
/// let catalog = ProviderCatalog(["openai": .init(defaultBaseURL: "https://api.openai.com/v1")])
/// let config = try ConfigLoader(environment: [:], providerTypes: catalog).load(yaml: text)
/// ```
public struct ProviderCatalog: Sendable {
    /// What the reader knows about one provider type.
    public struct Entry: Sendable {
        /// The `base_url` used when a provider of this type gives none.
        public var defaultBaseURL: String?
        /// The options a provider of this type accepts; nil accepts any, as text.
        public var options: ProviderOptionSchema?

        /// Creates an entry.
        ///
        /// - Parameters:
        ///   - defaultBaseURL: The `base_url` used when a provider of this type gives none.
        ///   - options: The options a provider of this type accepts; nil (a custom type that declares
        ///     none) accepts any, as text.
        public init(defaultBaseURL: String? = nil, options: ProviderOptionSchema? = nil) {
            self.defaultBaseURL = defaultBaseURL
            self.options = options
        }
    }

    /// The entries by `type:` name.
    public var entries: [String: Entry]

    /// Creates a catalogue of `entries`, keyed by `type:` name.
    public init(_ entries: [String: Entry]) {
        self.entries = entries
    }

    /// Every type name in the catalogue.
    public var typeNames: Set<String> { Set(entries.keys) }
}
