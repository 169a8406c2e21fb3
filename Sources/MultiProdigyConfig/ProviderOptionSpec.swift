/// One option a provider type accepts under `options:`: its name, its kind, its default and what it does.
///
/// ```swift
/// ProviderOptionSpec("num_ctx", .positiveInteger, default: "the model's own", summary: "context window sent with every call")
/// ```
public struct ProviderOptionSpec: Sendable {
    /// The key under `options:`.
    public var name: String
    /// The kind of value it takes.
    public var kind: ProviderOptionKind
    /// The default, as documented (nil: none, or the upstream's own).
    public var defaultValue: String?
    /// What it does, in one line.
    public var summary: String

    /// Creates a spec.
    ///
    /// - Parameters:
    ///   - name: The key under `options:`.
    ///   - kind: The kind of value it takes.
    ///   - defaultValue: The default, as documented.
    ///   - summary: What it does, in one line.
    public init(_ name: String, _ kind: ProviderOptionKind, default defaultValue: String? = nil, summary: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.summary = summary
    }
}
