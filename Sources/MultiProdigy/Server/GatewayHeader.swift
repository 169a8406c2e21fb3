import HTTPTypes

/// The gateway's response headers.
public enum GatewayHeader {
    /// `x-multiprodigy-request-id`: unique per request, on every response.
    public static let requestID = HTTPField.Name("x-multiprodigy-request-id")!
    /// `x-multiprodigy-provider`: the provider that answered (or was tried last).
    public static let provider = HTTPField.Name("x-multiprodigy-provider")!
    /// `x-multiprodigy-model`: the declared model that answered (or was tried last).
    public static let model = HTTPField.Name("x-multiprodigy-model")!
    /// `x-multiprodigy-attempts`: upstream calls made for this request.
    public static let attempts = HTTPField.Name("x-multiprodigy-attempts")!
    /// `x-multiprodigy-route`: the route the client named, when it named one.
    public static let route = HTTPField.Name("x-multiprodigy-route")!
}
