import MultiProdigyJSON

/// The typed value of one entry under a provider's `options:`.
///
/// The config reader types each value by the provider type's ``ProviderOptionSchema``; a custom type
/// that declares no schema gets every value as ``string(_:)``. A string literal makes a `.string`, so
/// a configuration built in code can write `options: ["num_ctx": "8192"]`: the provider's schema types
/// it when the provider is built (``ProviderOptionSchema/validate(_:provider:type:)``).
public enum ProviderOptionValue: Sendable, Equatable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// Text, as written (after `${VAR}` expansion).
    case string(String)
    /// A whole number.
    case integer(Int)
    /// A number.
    case number(Double)
    /// `true` or `false`.
    case bool(Bool)
    /// A duration such as `30s`.
    case duration(Duration)

    /// Creates a `.string` value.
    public init(stringLiteral value: String) {
        self = .string(value)
    }

    /// The value as the configuration would write it.
    public var description: String {
        switch self {
        case .string(let text): text
        case .integer(let value): String(value)
        case .number(let value): String(value)
        case .bool(let value): String(value)
        case .duration(let value): "\(Int64(value.seconds * 1000))ms"
        }
    }
}
