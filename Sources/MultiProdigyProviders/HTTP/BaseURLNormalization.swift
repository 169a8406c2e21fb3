/// How a provider's configured `base_url` becomes the root its request paths are appended to.
///
/// Users write `base_url` as the provider documents it, with or without a trailing slash or a
/// version; each provider type names its rule here instead of trimming the text itself.
///
/// ```swift
/// BaseURLNormalization.strippingSuffixes(["/v1"]).apiRoot(from: "https://api.anthropic.com/v1/")
/// // "https://api.anthropic.com"
/// ```
enum BaseURLNormalization: Sendable, Equatable {
    /// Trailing slashes dropped; a URL with no path gets `path` (OpenAI-compatible servers: `/v1`).
    case defaultingPath(String)
    /// Trailing slashes dropped, then each suffix in turn, with the slashes before it, when the root
    /// ends with it (Anthropic: `/v1`; Ollama's native API: `/v1`, then `/api`).
    case strippingSuffixes([String])
    /// Trailing slashes dropped; `version` appended unless the last path segment is one of
    /// `accepting` (Gemini: `/v1beta` unless the root names `v1beta`, `v1` or `v1alpha`).
    case versioned(String, accepting: [String])

    /// The root for `baseURL`, without a trailing slash.
    func apiRoot(from baseURL: String) -> String {
        var root = Self.trimmingTrailingSlashes(baseURL)
        switch self {
        case .defaultingPath(let path):
            let afterScheme = root.range(of: "://").map { root[$0.upperBound...] } ?? Substring(root)
            if !afterScheme.contains("/") { root += path }
        case .strippingSuffixes(let suffixes):
            for suffix in suffixes where root.hasSuffix(suffix) {
                root = Self.trimmingTrailingSlashes(String(root.dropLast(suffix.count)))
            }
        case .versioned(let version, let accepting):
            let lastSegment = root.split(separator: "/").last.map(String.init) ?? ""
            if !accepting.contains(lastSegment) { root += version }
        }
        return root
    }

    private static func trimmingTrailingSlashes(_ text: String) -> String {
        var text = text
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
