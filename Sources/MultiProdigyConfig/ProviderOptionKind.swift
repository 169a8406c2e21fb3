import Foundation

/// The kind of value a provider option takes, and how its text is read.
///
/// Every kind but ``string`` ignores surrounding whitespace. Booleans take the same words as every
/// other boolean of the configuration (`true`/`false`, `yes`/`no`, `on`/`off`); durations and sizes
/// the same units (`250ms`, `30s`, `5m`, `1h`; `8MiB`, `512KiB` or a byte count).
public enum ProviderOptionKind: Sendable {
    /// Non-empty text, read as ``ProviderOptionValue/string(_:)``.
    case string
    /// A whole number above zero (`_` may group digits), read as ``ProviderOptionValue/integer(_:)``.
    case positiveInteger
    /// A finite number, read as ``ProviderOptionValue/number(_:)``.
    case number
    /// `true` or `false`, read as ``ProviderOptionValue/bool(_:)``.
    case bool
    /// A duration with a unit, read as ``ProviderOptionValue/duration(_:)``.
    case duration
    /// A size in bytes, read as ``ProviderOptionValue/integer(_:)``.
    case byteSize
    /// One of the listed words, read as ``ProviderOptionValue/string(_:)``.
    case oneOf([String])
    /// A value only the provider knows how to read: `parse` returns nil for text it refuses.
    ///
    /// - Parameters:
    ///   - expected: What the value should be, completing "'x' is not …" (such as "an Ollama keep_alive").
    ///   - example: How to write one, for the fix (such as "`keep_alive: 5m`").
    ///   - parse: Reads the (trimmed) text.
    case custom(expected: String, example: String, parse: @Sendable (String) -> ProviderOptionValue?)

    /// What a value of this kind is, completing "'x' is not …".
    public var expected: String {
        switch self {
        case .string: "a non-empty text"
        case .positiveInteger: "a positive whole number"
        case .number: "a number"
        case .bool: "true or false"
        case .duration: "a duration"
        case .byteSize: "a size"
        case .oneOf(let words): "one of \(words.joined(separator: ", "))"
        case .custom(let expected, _, _): expected
        }
    }

    /// How to write a value of this kind, for `name`.
    func example(for name: String) -> String {
        switch self {
        case .string: "write a value, or remove the option"
        case .positiveInteger: "write a number such as `\(name): 8192`"
        case .number: "write a number such as `\(name): 0.5`"
        case .bool: "write `\(name): true` or `\(name): false`"
        case .duration: "write a number with a unit, at most a year, such as `\(name): 30s` (250ms, 30s, 5m or 1h)"
        case .byteSize: "write a size up to 1TiB, such as `\(name): 8MiB`, 512KiB or a byte count"
        case .oneOf(let words): "write one of: \(words.joined(separator: ", "))"
        case .custom(_, let example, _): "write it as \(example)"
        }
    }

    /// The value `text` reads as, or nil when it is not one of this kind.
    public func value(from text: String) -> ProviderOptionValue? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        switch self {
        case .string:
            return trimmed.isEmpty ? nil : .string(text)
        case .positiveInteger:
            return Int(trimmed.replacingOccurrences(of: "_", with: "")).flatMap { $0 > 0 ? .integer($0) : nil }
        case .number:
            return Double(trimmed).flatMap { $0.isFinite ? .number($0) : nil }
        case .bool:
            switch trimmed.lowercased() {
            case "true", "yes", "on": return .bool(true)
            case "false", "no", "off": return .bool(false)
            default: return nil
            }
        case .duration:
            return ConfigValueParsing.duration(trimmed).map { .duration($0) }
        case .byteSize:
            return ConfigValueParsing.byteSize(trimmed).map { .integer($0) }
        case .oneOf(let words):
            return words.contains(trimmed) ? .string(trimmed) : nil
        case .custom(_, _, let parse):
            return parse(trimmed)
        }
    }

    /// `value` as this kind: text is read with ``value(from:)``, a typed value is kept when it is of
    /// this kind; nil when it is not one.
    public func value(from value: ProviderOptionValue) -> ProviderOptionValue? {
        switch (self, value) {
        case (_, .string(let text)): return self.value(from: text)
        case (.positiveInteger, .integer(let number)), (.byteSize, .integer(let number)): return number > 0 ? value : nil
        case (.number, .integer(let number)): return .number(Double(number))
        case (.number, .number(let number)): return number.isFinite ? value : nil
        case (.bool, .bool), (.duration, .duration): return value
        case (.custom(_, _, let parse), _): return parse(value.description)
        default: return nil
        }
    }
}
