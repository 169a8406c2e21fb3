import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy

/// The `options:` of an `ollama` provider (``OllamaProvider/optionSchema``), as the translators use them.
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
    var keepAlive: JSONValue?
    /// `truncate` for embeddings calls.
    var truncate: Bool?

    /// Creates settings.
    init(contextLength: Int? = nil, keepAlive: JSONValue? = nil, truncate: Bool? = nil) {
        self.contextLength = contextLength
        self.keepAlive = keepAlive
        self.truncate = truncate
    }

    /// The settings of `options`, typed by ``OllamaProvider/optionSchema``.
    init(options: ProviderOptions) {
        self.contextLength = options.integer("num_ctx")
        switch options["keep_alive"] {
        case .integer(let seconds)?: self.keepAlive = .integer(seconds)
        case .string(let duration)?: self.keepAlive = .string(duration)
        default: self.keepAlive = nil
        }
        self.truncate = options.bool("truncate")
    }

    /// Reads `keep_alive` as Ollama takes it: a whole number of seconds, or a Go duration string.
    static func keepAlive(_ text: String) -> ProviderOptionValue? {
        if let seconds = Int(text) { return .integer(seconds) }
        return isDuration(text) ? .string(text) : nil
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
