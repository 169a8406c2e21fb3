import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore

/// The `options:` an `ollama` provider reads from the config, validated when the gateway starts.
///
/// | Key | Type | Default | Meaning |
/// |---|---|---|---|
/// | `num_ctx` | positive integer | the model's own (often 2048–8192) | context window sent as `options.num_ctx` with every chat and embeddings call |
/// | `keep_alive` | duration (`5m`, `1h`), seconds, `0` or negative | Ollama's (5m) | how long Ollama keeps the model loaded after a call |
/// | `truncate` | `true`/`false` | Ollama's (`true`) | whether `/api/embed` silently truncates inputs longer than the context |
struct OllamaSettings: Sendable, Equatable {
    /// `options.num_ctx` for every call.
    var contextLength: Int?
    /// `keep_alive` for every call, as Ollama takes it (a number of seconds or a duration string).
    package var keepAlive: JSONValue?
    /// `truncate` for embeddings calls.
    var truncate: Bool?

    /// The keys an `ollama` provider understands.
    static let knownKeys = ["keep_alive", "num_ctx", "truncate"]

    /// Reads and validates the provider's `options:`.
    ///
    /// - Throws: ``ConfigError`` naming every bad or unknown key.
    package static func parse(_ options: [String: String], provider: String) throws(ConfigError) -> OllamaSettings {
        var settings = OllamaSettings()
        var issues: [ConfigIssue] = []
        func report(_ key: String, _ problem: String, _ fix: String) {
            issues.append(ConfigIssue(path: "providers.\(provider).options.\(key)", line: nil, problem: problem, fix: fix))
        }
        for (key, rawValue) in options.sorted(by: { $0.key < $1.key }) {
            let value = rawValue.trimmingWhitespace()
            switch key {
            case "num_ctx":
                if let count = Int(value.replacingOccurrences(of: "_", with: "")), count > 0 {
                    settings.contextLength = count
                } else {
                    report(key, "'\(value)' is not a positive whole number", "write the context window in tokens, such as `num_ctx: 8192`")
                }
            case "keep_alive":
                if let seconds = Int(value) {
                    settings.keepAlive = .integer(seconds)
                } else if Self.isDuration(value) {
                    settings.keepAlive = .string(value)
                } else {
                    report(
                        key,
                        "'\(value)' is not a duration",
                        "write a duration such as `5m`, `1h` or `30s`, a number of seconds, `0` to unload at once or `-1` to keep loaded"
                    )
                }
            case "truncate":
                switch value.lowercased() {
                case "true", "yes", "on": settings.truncate = true
                case "false", "no", "off": settings.truncate = false
                default: report(key, "'\(value)' is not true or false", "write `truncate: true` or `truncate: false`")
                }
            default:
                let hint = ConfigValueParsing.suggestion(for: key, among: knownKeys).map { " (did you mean '\($0)'?)" } ?? ""
                report(key, "'\(key)' is not an option of ollama providers\(hint)", "use one of: \(knownKeys.joined(separator: ", "))")
            }
        }
        guard issues.isEmpty else { throw ConfigError(source: "providers.\(provider)", issues: issues) }
        return settings
    }

    /// Whether `text` is a Go duration such as `5m`, `1h30m`, `-1s` or `2.5h`.
    static func isDuration(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.first == "-" || rest.first == "+" { rest.removeFirst() }
        guard !rest.isEmpty else { return false }
        let units = ["ns", "us", "µs", "ms", "s", "m", "h"]
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, Double(number) != nil else { return false }
            rest = rest.dropFirst(number.count)
            // Longest unit first, so `ms` is not read as `m` followed by garbage.
            guard let unit = units.sorted(by: { $0.count > $1.count }).first(where: { rest.hasPrefix($0) }) else { return false }
            rest = rest.dropFirst(unit.count)
        }
        return true
    }
}
