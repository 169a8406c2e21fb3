import Foundation
import MultiProdigyConfig
import MultiProdigyResilience
import MultiProdigyRouting

/// One finished request (chat or embeddings), as the usage ledger stores it.
///
/// Encoded with snake_case keys (`request_id`, `cost_usd`…), the names of the ledger's columns.
public struct UsageRecord: Sendable, Equatable, Codable {
    /// When the request finished.
    public var time: Date
    /// The request's id (`x-multiprodigy-request-id`).
    public var requestID: String
    /// The virtual key's name; nil for the master key or an open gateway.
    public var keyName: String?
    /// `chat` or `embeddings`.
    public var endpoint: String
    /// The client's `model` as asked: a route, a declared model or `provider/model`.
    public var route: String
    /// The provider that answered, or was tried last; nil when none was tried.
    public var provider: String?
    /// The declared name of the model that answered, or was tried last.
    public var model: String?
    /// Prompt (input) tokens billed.
    public var promptTokens: Int
    /// Completion (output) tokens billed.
    public var completionTokens: Int
    /// What the request cost, in USD.
    public var costUSD: Double
    /// From the request's arrival to its last byte, in seconds.
    public var latencySeconds: Double
    /// From the request's arrival to the first content token of a stream, in seconds.
    public var timeToFirstTokenSeconds: Double?
    /// The HTTP status the client was given.
    public var status: Int
    /// Upstream calls made for the request.
    public var attempts: Int
    /// Every attempt, in order, as `target:outcome` (`ok`, a failure's kind, `cut_<kind>`, `diverged`); nil in
    /// rows written before the ledger kept it.
    public var path: [String]?

    /// Creates a record.
    public init(
        time: Date,
        requestID: String,
        keyName: String?,
        endpoint: String,
        route: String,
        provider: String?,
        model: String?,
        promptTokens: Int,
        completionTokens: Int,
        costUSD: Double,
        latencySeconds: Double,
        timeToFirstTokenSeconds: Double?,
        status: Int,
        attempts: Int,
        path: [String]? = nil
    ) {
        self.time = time
        self.requestID = requestID
        self.keyName = keyName
        self.endpoint = endpoint
        self.route = route
        self.provider = provider
        self.model = model
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.costUSD = costUSD
        self.latencySeconds = latencySeconds
        self.timeToFirstTokenSeconds = timeToFirstTokenSeconds
        self.status = status
        self.attempts = attempts
        self.path = path
    }

    /// The ledger's column names.
    enum CodingKeys: String, CodingKey {
        case time
        case requestID = "request_id"
        case keyName = "key_name"
        case endpoint
        case route
        case provider
        case model
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case costUSD = "cost_usd"
        case latencySeconds = "latency_seconds"
        case timeToFirstTokenSeconds = "ttft_seconds"
        case status
        case attempts
        case path
    }
}
