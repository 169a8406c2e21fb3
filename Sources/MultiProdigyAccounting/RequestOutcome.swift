import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyResilience
import MultiProdigyRouting

/// One finished request, as the metrics and the usage ledger learn of it.
public struct RequestOutcome: Sendable {
    /// `x-multiprodigy-request-id`.
    public var requestID: String
    /// `chat` or `embeddings`.
    public var endpoint: String
    /// Upstream calls made.
    public var attempts: Int
    /// The route or model the client asked for, when it named something configured.
    public var route: String?
    /// The target that answered, or the last one tried; nil when none was.
    public var target: RouteTarget?
    /// The HTTP status the client got (for a stream cut after its head, the in-band error's).
    public var status: Int
    /// From the request's arrival to its last byte.
    public var duration: Duration
    /// From the request's arrival to the first content sent, for streams.
    public var timeToFirstToken: Duration?
    /// Time spent in the gateway itself: ``duration`` less the time waiting on upstreams.
    public var overhead: Duration?
    /// Tokens used, when a target answered.
    public var usage: TokenUsage?
    /// The request's cost in USD, when known.
    public var costUSD: Double?
    /// The virtual key's name, `master`, or `none` on an open gateway.
    public var keyName: String
    /// For an answer that several targets wrote (a continued stream), each one's part; the
    /// metrics count each part's tokens and cost against its own target. Empty otherwise.
    public var segments: [UsageSegment] = []
    /// Every attempt the request made, in order, as ``AttemptTrail/steps`` reads them (`target:outcome`).
    public var path: [String] = []
    /// The targets tried, each once, in the order first tried.
    public var triedTargets: [RouteTarget] = []

    /// Creates an outcome.
    public init(
        requestID: String = "",
        endpoint: String = "chat",
        attempts: Int = 0,
        route: String?,
        target: RouteTarget?,
        status: Int,
        duration: Duration,
        timeToFirstToken: Duration? = nil,
        overhead: Duration? = nil,
        usage: TokenUsage? = nil,
        costUSD: Double? = nil,
        keyName: String
    ) {
        self.requestID = requestID
        self.endpoint = endpoint
        self.attempts = attempts
        self.route = route
        self.target = target
        self.status = status
        self.duration = duration
        self.timeToFirstToken = timeToFirstToken
        self.overhead = overhead
        self.usage = usage
        self.costUSD = costUSD
        self.keyName = keyName
    }
}
