import MultiProdigyPrivacy

/// The options a provider type accepts, with the kind of each: how `providers.<name>.options` is
/// checked and typed.
///
/// The config reader checks every option of a provider against its type's schema (from
/// ``ProviderCatalog``) and reports a misspelt name with a "did you mean" hint, or a value of the
/// wrong kind with what it should be, at the option's path and line. A type without a schema (a
/// custom type registered without one) accepts any options, as text.
///
/// ```swift
/// let schema: ProviderOptionSchema = [
///     ProviderOptionSpec("stream_usage", .bool, default: "true", summary: "ask streams for their usage")
/// ]
/// ```
public struct ProviderOptionSchema: Sendable, ExpressibleByArrayLiteral {
    /// Why an option was refused, in the words of a ``ConfigIssue``.
    public struct Refusal: Error, Equatable {
        /// What is wrong.
        public var problem: String
        /// How to fix it.
        public var fix: String
    }

    /// The options, in the order they are documented.
    public var specs: [ProviderOptionSpec]

    /// Creates a schema of `specs`.
    public init(_ specs: [ProviderOptionSpec]) {
        self.specs = specs
    }

    /// Creates a schema of the listed specs.
    public init(arrayLiteral specs: ProviderOptionSpec...) {
        self.specs = specs
    }

    /// The option called `name`, if the schema has one.
    public subscript(name: String) -> ProviderOptionSpec? {
        specs.first { $0.name == name }
    }

    /// The option names, sorted.
    public var names: [String] { specs.map(\.name).sorted() }

    /// Checks that `name` is an option of providers of type `type`.
    public func check(name: String, type: String) -> Refusal? {
        guard self[name] == nil else { return nil }
        guard !specs.isEmpty else {
            return Refusal(problem: "'\(name)' is not an option: \(type) providers take no options", fix: "remove it")
        }
        let hint = ConfigValueParsing.suggestion(for: name, among: names).map { " (did you mean '\($0)'?)" } ?? ""
        return Refusal(
            problem: "'\(name)' is not an option of \(type) providers\(hint)",
            fix: "use one of: \(names.joined(separator: ", "))"
        )
    }

    /// Reads `value` for the option `name` of a provider of type `type`.
    public func read(_ value: ProviderOptionValue, for name: String, type: String) -> Result<ProviderOptionValue, Refusal> {
        if let refusal = check(name: name, type: type) { return .failure(refusal) }
        guard let spec = self[name] else { return .failure(Refusal(problem: "'\(name)' is not an option", fix: "remove it")) }
        if let typed = spec.kind.value(from: value) { return .success(typed) }
        // A credential's value is never quoted: the configuration that holds it was refused, so its
        // secrets were never learnt, and the message goes to the terminal and the log as it is.
        let shown = SecretScrubber.isCredentialName(name) ? "its value" : "'\(value)'"
        return .failure(Refusal(problem: "\(shown) is not \(spec.kind.expected)", fix: spec.kind.example(for: name)))
    }

    /// `options` typed by this schema, for a provider built from a configuration the reader did not
    /// read (one built in code): text becomes the kind each option takes.
    ///
    /// - Parameters:
    ///   - options: The provider's options.
    ///   - provider: The provider's name, for the issues' paths.
    ///   - type: The provider's type, for the issues' words.
    /// - Throws: ``ConfigError`` naming every unknown option and every value of the wrong kind.
    public func validate(_ options: ProviderOptions, provider: String, type: String) throws(ConfigError) -> ProviderOptions {
        var typed = ProviderOptions()
        var issues: [ConfigIssue] = []
        for (name, value) in options.values.sorted(by: { $0.key < $1.key }) {
            switch read(value, for: name, type: type) {
            case .success(let value): typed[name] = value
            case .failure(let refusal):
                issues.append(
                    ConfigIssue(path: "providers.\(provider).options.\(name)", line: nil, problem: refusal.problem, fix: refusal.fix)
                )
            }
        }
        guard issues.isEmpty else { throw ConfigError(source: "providers.\(provider)", issues: issues) }
        return typed
    }
}
