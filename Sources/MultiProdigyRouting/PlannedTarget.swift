import MultiProdigyConfig

/// One target of a plan with the estimates that placed it.
public struct PlannedTarget: Sendable, Equatable {
    /// The target.
    public var target: RouteTarget
    /// Where it runs.
    public var locality: Locality
    /// Estimated USD for this request; nil when its price is unknown.
    public var estimatedCostUSD: Double?
    /// Predicted time to first token (streams) or to the whole answer; nil before the first
    /// measurement when no `latency` prior is configured.
    public var predictedLatency: Duration?
    /// Why it is at this place.
    public var placement: PlanReason
    /// Its context window in tokens, when declared; after a target refuses a prompt as too long,
    /// only targets with a larger (or unknown) window are tried.
    public var contextWindow: Int?
    /// `output_factor`: how much longer its answers run than the plan's expected answer.
    public var outputFactor: Double
    /// `non_streaming`: how a non-streaming request reaches it.
    public var nonStreaming: NonStreamingCalls

    /// Creates an entry.
    public init(
        target: RouteTarget,
        locality: Locality,
        estimatedCostUSD: Double?,
        predictedLatency: Duration?,
        placement: PlanReason,
        contextWindow: Int? = nil,
        outputFactor: Double = 1,
        nonStreaming: NonStreamingCalls = .assembled
    ) {
        self.nonStreaming = nonStreaming
        self.contextWindow = contextWindow
        self.outputFactor = outputFactor
        self.target = target
        self.locality = locality
        self.estimatedCostUSD = estimatedCostUSD
        self.predictedLatency = predictedLatency
        self.placement = placement
    }

    /// Why it is at this place, as a phrase.
    public var reason: String { placement.description }
}
