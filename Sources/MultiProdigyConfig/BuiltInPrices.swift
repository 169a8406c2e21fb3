import MultiProdigyJSON
import MultiProdigyPrivacy

/// Prices the gateway knows for well-known cloud models, so cost routing, budgets and the ledger
/// work without a `price:` in the configuration. A `price:` in the configuration always wins.
///
/// USD per million tokens, from the providers' public price pages as of ``asOf``. Anthropic's cache
/// writes are at its 5-minute rate, 1.25× input. Where a provider
/// charges more for very long prompts (Gemini 2.5 Pro above 200k tokens), the table has the
/// standard tier. A model name matches its entry exactly, or as a snapshot of it: the entry's name
/// followed by a date or version (`gpt-4o-mini-2024-07-18`, `claude-sonnet-4-20250514`,
/// `gemini-2.5-flash-preview-05-20`, `claude-3-5-haiku-latest`). Any other suffix names another
/// model (`gpt-5-pro`, `o1-pro`, `gpt-4o-audio-preview`), which has no built-in price.
public enum BuiltInPrices {
    /// When the table was compiled.
    public static let asOf = "2025-11-01"

    /// The built-in price of `model` on a provider of `providerType` reached at `baseURL`; nil when
    /// the table has none.
    ///
    /// OpenAI's prices apply only to OpenAI's own API: an OpenAI-compatible server elsewhere that
    /// serves a model of the same name sets its own prices.
    public static func price(providerType: String, baseURL: String, model: String) -> ModelPrice? {
        let table: [String: ModelPrice]
        switch providerType {
        case "openai" where baseURL.contains("api.openai.com"): table = openAI
        case "anthropic": table = anthropic
        case "gemini": table = gemini
        default: return nil
        }
        var name = Substring(model)
        if name.hasPrefix("models/") { name = name.dropFirst("models/".count) }
        if let exact = table[String(name)] { return exact }
        // The longest name wins: `claude-opus-4-5-20251101` is Opus 4.5, not a snapshot of Opus 4.
        var best: (key: String, price: ModelPrice)?
        for (key, price) in table where name.hasPrefix(key) && key.count > best?.key.count ?? 0 {
            let rest = name.dropFirst(key.count)
            if rest.hasPrefix("@") || (rest.hasPrefix("-") && isSnapshotSuffix(rest.dropFirst())) { best = (key, price) }
        }
        return best?.price
    }

    /// Whether `suffix` (after the model's name and a dash) names a snapshot of the same model: a
    /// date or version of digits and dashes (`2024-07-18`, `20250514`, `0125`), `latest`, or
    /// `preview` followed by one.
    private static func isSnapshotSuffix(_ suffix: Substring) -> Bool {
        if suffix == "latest" { return true }
        var digits = suffix
        if digits.hasPrefix("preview-") { digits = digits.dropFirst("preview-".count) }
        return !digits.isEmpty && digits.first?.isNumber == true && digits.allSatisfy { $0.isNumber || $0 == "-" }
    }

    /// Every built-in price by provider type, for documentation and `multiprodigy check`.
    public static var all: [(providerType: String, model: String, price: ModelPrice)] {
        [("openai", openAI), ("anthropic", anthropic), ("gemini", gemini)].flatMap { type, table in
            table.sorted { $0.key < $1.key }.map { (type, $0.key, $0.value) }
        }
    }

    private static let openAI: [String: ModelPrice] = [
        "gpt-5": ModelPrice(input: 1.25, output: 10.00, cachedInput: 0.125),
        "gpt-5-mini": ModelPrice(input: 0.25, output: 2.00, cachedInput: 0.025),
        "gpt-5-nano": ModelPrice(input: 0.05, output: 0.40, cachedInput: 0.005),
        "gpt-4.1": ModelPrice(input: 2.00, output: 8.00, cachedInput: 0.50),
        "gpt-4.1-mini": ModelPrice(input: 0.40, output: 1.60, cachedInput: 0.10),
        "gpt-4.1-nano": ModelPrice(input: 0.10, output: 0.40, cachedInput: 0.025),
        "gpt-4o": ModelPrice(input: 2.50, output: 10.00, cachedInput: 1.25),
        "gpt-4o-mini": ModelPrice(input: 0.15, output: 0.60, cachedInput: 0.075),
        "gpt-4-turbo": ModelPrice(input: 10.00, output: 30.00),
        "gpt-3.5-turbo": ModelPrice(input: 0.50, output: 1.50),
        "o1": ModelPrice(input: 15.00, output: 60.00, cachedInput: 7.50),
        "o3": ModelPrice(input: 2.00, output: 8.00, cachedInput: 0.50),
        "o3-mini": ModelPrice(input: 1.10, output: 4.40, cachedInput: 0.55),
        "o4-mini": ModelPrice(input: 1.10, output: 4.40, cachedInput: 0.275),
        "text-embedding-3-small": ModelPrice(input: 0.02, output: 0),
        "text-embedding-3-large": ModelPrice(input: 0.13, output: 0),
        "text-embedding-ada-002": ModelPrice(input: 0.10, output: 0),
    ]

    private static let anthropic: [String: ModelPrice] = [
        "claude-opus-4-5": ModelPrice(input: 5.00, output: 25.00, cachedInput: 0.50, cacheWrite: 6.25),
        "claude-opus-4-1": ModelPrice(input: 15.00, output: 75.00, cachedInput: 1.50, cacheWrite: 18.75),
        "claude-opus-4": ModelPrice(input: 15.00, output: 75.00, cachedInput: 1.50, cacheWrite: 18.75),
        "claude-sonnet-4-5": ModelPrice(input: 3.00, output: 15.00, cachedInput: 0.30, cacheWrite: 3.75),
        "claude-sonnet-4": ModelPrice(input: 3.00, output: 15.00, cachedInput: 0.30, cacheWrite: 3.75),
        "claude-3-7-sonnet": ModelPrice(input: 3.00, output: 15.00, cachedInput: 0.30, cacheWrite: 3.75),
        "claude-3-5-sonnet": ModelPrice(input: 3.00, output: 15.00, cachedInput: 0.30, cacheWrite: 3.75),
        "claude-haiku-4-5": ModelPrice(input: 1.00, output: 5.00, cachedInput: 0.10, cacheWrite: 1.25),
        "claude-3-5-haiku": ModelPrice(input: 0.80, output: 4.00, cachedInput: 0.08, cacheWrite: 1.0),
        "claude-3-haiku": ModelPrice(input: 0.25, output: 1.25, cachedInput: 0.03, cacheWrite: 0.3125),
    ]

    private static let gemini: [String: ModelPrice] = [
        "gemini-2.5-pro": ModelPrice(input: 1.25, output: 10.00, cachedInput: 0.31),
        "gemini-2.5-flash": ModelPrice(input: 0.30, output: 2.50, cachedInput: 0.075),
        "gemini-2.5-flash-lite": ModelPrice(input: 0.10, output: 0.40, cachedInput: 0.025),
        "gemini-2.0-flash": ModelPrice(input: 0.10, output: 0.40, cachedInput: 0.025),
        "gemini-2.0-flash-lite": ModelPrice(input: 0.075, output: 0.30),
        "gemini-1.5-pro": ModelPrice(input: 1.25, output: 5.00),
        "gemini-1.5-flash": ModelPrice(input: 0.075, output: 0.30),
        "gemini-embedding-001": ModelPrice(input: 0.15, output: 0),
        "text-embedding-004": ModelPrice(input: 0, output: 0),
    ]
}
