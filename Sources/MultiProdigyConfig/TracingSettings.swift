/// `tracing:` OpenTelemetry traces of the gateway's requests, exported over OTLP/HTTP.
///
/// Off by default. When on, each request to an LLM endpoint gets a server span with the GenAI
/// semantic-convention attributes, and child spans for its planning, each upstream attempt and each
/// continuation of a cut stream; a client's `traceparent` is the request span's parent, and each
/// upstream call carries the `traceparent` of its attempt span. Prompts and answers are never
/// recorded. Read at start: a reload that changes it takes effect at the next start.
///
/// ```yaml
/// tracing:
///   enabled: true
///   endpoint: http://127.0.0.1:4318/v1/traces
///   sample_ratio: 0.25
///   service_name: multiprodigy
/// ```
public struct TracingSettings: Sendable, Equatable {
    /// `enabled`: whether spans are recorded and exported (default `false`).
    public var enabled: Bool
    /// `endpoint`: the OTLP/HTTP (protobuf) traces URL, used as written (default
    /// `http://127.0.0.1:4318/v1/traces`, a collector on the same machine).
    public var endpoint: String
    /// `sample_ratio`: the share of requests without a client's trace that are traced, from 0 to 1
    /// (default `1`). A client's `traceparent` decides for its own requests: sampled (`-01`) is
    /// traced, not sampled (`-00`) is not.
    public var sampleRatio: Double
    /// `service_name`: the `service.name` resource attribute of every span (default `multiprodigy`).
    public var serviceName: String

    /// The default endpoint: an OpenTelemetry Collector's OTLP/HTTP receiver on this machine.
    public static let defaultEndpoint = "http://127.0.0.1:4318/v1/traces"

    /// Creates tracing settings.
    public init(
        enabled: Bool = false,
        endpoint: String = TracingSettings.defaultEndpoint,
        sampleRatio: Double = 1,
        serviceName: String = "multiprodigy"
    ) {
        self.enabled = enabled
        self.endpoint = endpoint
        self.sampleRatio = sampleRatio
        self.serviceName = serviceName
    }

    /// ``endpoint`` safe to log: without user information (`user:password@`) or a query, which may hold a
    /// collector's credentials.
    public var loggableEndpoint: String {
        Self.loggable(endpoint)
    }

    /// `url` without its user information and query.
    static func loggable(_ url: String) -> String {
        var text = Substring(url)
        if let query = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<query] }
        guard let schemeEnd = text.range(of: "://") else { return String(text) }
        let authorityStart = schemeEnd.upperBound
        let authorityEnd = text[authorityStart...].firstIndex(of: "/") ?? text.endIndex
        if let at = text[authorityStart..<authorityEnd].lastIndex(of: "@") {
            return String(text[..<authorityStart]) + "…@" + String(text[text.index(after: at)...])
        }
        return String(text)
    }
}
