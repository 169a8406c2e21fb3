import MultiProdigyJSON
import MultiProdigyPrivacy

/// Expands `${VAR}` and `${VAR:-default}` in configuration values.
///
/// Expansion happens on parsed scalar values, never on the raw file, so a variable's contents cannot
/// change the YAML structure. `$${` writes a literal `${`.
public struct EnvironmentInterpolation: Sendable {
    /// The variables available for expansion.
    public var environment: [String: String]

    /// Creates an interpolator over `environment`.
    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// The result of expanding one value.
    public struct Expansion: Sendable, Equatable {
        /// The expanded text; an unset variable without default expands to the empty string.
        public var value: String
        /// Variables referenced without a default that are unset or empty.
        public var unsetVariables: [String]
        /// Whether the text referenced any variable.
        public var referencedVariables: Bool
    }

    /// Expands every reference in `text`.
    ///
    /// - Throws: ``ConfigIssue``-ready messages as `InterpolationError` when a reference is malformed.
    public func expand(_ text: String) throws(InterpolationError) -> Expansion {
        guard text.contains("$") else { return Expansion(value: text, unsetVariables: [], referencedVariables: false) }
        var output = ""
        var unset: [String] = []
        var referenced = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == "$", next < text.endIndex, text[next] == "$",
                text.index(after: next) < text.endIndex, text[text.index(after: next)] == "{"
            {
                output += "$"
                index = text.index(after: next)
                continue
            }
            guard character == "$", next < text.endIndex, text[next] == "{" else {
                output.append(character)
                index = next
                continue
            }
            guard let close = text[next...].firstIndex(of: "}") else {
                throw InterpolationError(message: "'${' has no closing '}'")
            }
            referenced = true
            let reference = text[text.index(after: next)..<close]
            let name: Substring
            let fallback: Substring?
            if let separator = reference.range(of: ":-") {
                name = reference[..<separator.lowerBound]
                fallback = reference[separator.upperBound...]
            } else {
                name = reference
                fallback = nil
            }
            guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw InterpolationError(message: "'${\(reference)}' is not a valid variable reference")
            }
            if let value = environment[String(name)], !value.isEmpty {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                unset.append(String(name))
            }
            index = text.index(after: close)
        }
        return Expansion(value: output, unsetVariables: unset, referencedVariables: referenced)
    }
}
