import MultiProdigyPrivacy

/// One entry under `providers:`.
public struct ProviderConfig: Sendable, Equatable {
    /// The key under `providers:`.
    public var name: String
    /// `type`: which adapter speaks to it (`openai`, or a type registered with ``ProviderRegistry``).
    public var type: String
    /// `base_url`: the API root, as the provider documents it.
    public var baseURL: String
    /// `api_key`, after `${VAR}` interpolation; nil when none is needed.
    public var apiKey: String?
    /// `locality`: `local` or `cloud`.
    public var locality: Locality
    /// `headers`: extra headers sent with every upstream call.
    public var headers: [String: String]
    /// `ca_file`: a PEM bundle of the certificate authorities an `https` upstream's certificate
    /// must chain to, instead of the system's trust roots (a private CA); nil for the system's.
    public var caFile: String?
    /// `options`: the provider type's own settings, typed by its ``ProviderOptionSchema``; text for
    /// a custom type that declares none.
    public var options: ProviderOptions
    /// Why the provider is disabled (such as an unset secret); nil when enabled.
    public var disabledReason: String?

    /// Creates a provider configuration.
    public init(
        name: String,
        type: String,
        baseURL: String,
        apiKey: String? = nil,
        locality: Locality = .cloud,
        headers: [String: String] = [:],
        caFile: String? = nil,
        options: ProviderOptions = [:],
        disabledReason: String? = nil
    ) {
        self.caFile = caFile
        self.name = name
        self.type = type
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.locality = locality
        self.headers = headers
        self.options = options
        self.disabledReason = disabledReason
    }

    /// Whether requests may be sent to this provider.
    public var isEnabled: Bool { disabledReason == nil }
}
