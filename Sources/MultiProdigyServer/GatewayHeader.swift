import HTTPTypes
import MultiProdigyAccounting

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
    /// `x-multiprodigy-route`: the routing decision in one line, route (or model) name first:
    /// `auto; policy=cost; private=pii:email; order=llama3.2>gpt-4o-mini; excluded=1`.
    public static let route = HTTPField.Name("x-multiprodigy-route")!
    /// `x-multiprodigy-cost-usd`: what the request cost, in USD, on non-streaming answers whose
    /// model has a price (a stream's cost is in its final usage chunk).
    public static let costUSD = HTTPField.Name("x-multiprodigy-cost-usd")!
    /// `x-multiprodigy-overhead-ms`: the time the gateway itself spent on the request, excluding
    /// upstream calls and retry waits.
    public static let overheadMilliseconds = HTTPField.Name("x-multiprodigy-overhead-ms")!
    /// `x-multiprodigy-policy` (request): rank by this policy instead of the route's.
    public static let policy = HTTPField.Name("x-multiprodigy-policy")!
    /// `x-multiprodigy-privacy: local` (request): keep the request on local targets.
    public static let privacy = HTTPField.Name("x-multiprodigy-privacy")!
    /// `x-multiprodigy-token-count` on `/v1/messages/count_tokens`: `upstream` when an Anthropic
    /// target counted the tokens, `estimated` when the gateway estimated them (no target could count).
    public static let tokenCount = HTTPField.Name("x-multiprodigy-token-count")!
}
