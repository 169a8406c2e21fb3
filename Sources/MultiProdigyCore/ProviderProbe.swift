/// What an active health check learned about a provider.
public struct ProviderProbe: Sendable, Equatable {
    /// Whether the upstream answered its health check.
    public var isHealthy: Bool
    /// Why it is not healthy (or what it reported), for logs and `/ready`.
    public var detail: String?
    /// The longest prompt, in tokens, the server says it accepts (TGI's `/info`), when it says.
    public var maxInputTokens: Int?

    /// Why the provider counts as down, or nil when the check passed.
    public var downReason: String? {
        isHealthy ? nil : detail ?? "its health check failed"
    }

    /// Creates a probe result.
    public init(isHealthy: Bool, detail: String? = nil, maxInputTokens: Int? = nil) {
        self.isHealthy = isHealthy
        self.detail = detail
        self.maxInputTokens = maxInputTokens
    }
}
