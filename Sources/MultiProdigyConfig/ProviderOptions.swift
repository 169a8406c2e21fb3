/// A provider's `options:`, typed by its type's ``ProviderOptionSchema``.
///
/// Providers read them with the typed accessors; an option that is absent, or not of the asked
/// kind, reads as nil:
///
/// ```swift
/// let maxTokens = config.options.integer("default_max_tokens") ?? 4096
/// ```
public struct ProviderOptions: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    /// The values by option name.
    public var values: [String: ProviderOptionValue]

    /// Creates options from `values`.
    public init(_ values: [String: ProviderOptionValue] = [:]) {
        self.values = values
    }

    /// Creates options from literal pairs.
    public init(dictionaryLiteral elements: (String, ProviderOptionValue)...) {
        self.values = Dictionary(elements, uniquingKeysWith: { _, last in last })
    }

    /// The value of `name`, if set.
    public subscript(name: String) -> ProviderOptionValue? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// The option names, sorted.
    public var names: [String] { values.keys.sorted() }

    /// Whether no option is set.
    public var isEmpty: Bool { values.isEmpty }

    /// The text of `name`: a `.string` value.
    public func string(_ name: String) -> String? {
        if case .string(let text)? = values[name] { return text }
        return nil
    }

    /// The whole number of `name`: an `.integer` value.
    public func integer(_ name: String) -> Int? {
        if case .integer(let value)? = values[name] { return value }
        return nil
    }

    /// The number of `name`: a `.number` or `.integer` value.
    public func number(_ name: String) -> Double? {
        switch values[name] {
        case .number(let value)?: value
        case .integer(let value)?: Double(value)
        default: nil
        }
    }

    /// The boolean of `name`: a `.bool` value.
    public func bool(_ name: String) -> Bool? {
        if case .bool(let value)? = values[name] { return value }
        return nil
    }

    /// The duration of `name`: a `.duration` value.
    public func duration(_ name: String) -> Duration? {
        if case .duration(let value)? = values[name] { return value }
        return nil
    }
}
