import MultiProdigyRouting

/// The usage of one group (a key, model, provider, route or api) over a period, or of all rows.
public struct UsageSummaryRow: Sendable, Equatable {
    /// The group's value; nil for rows without one (no key, or no provider tried) and for a total.
    public var group: String?
    /// Requests recorded.
    public var requests: Int
    /// Requests answered with an HTTP status of 400 or more.
    public var errors: Int
    /// Prompt tokens billed.
    public var promptTokens: Int
    /// Completion tokens billed.
    public var completionTokens: Int
    /// Cost in USD.
    public var costUSD: Double
    /// Mean latency, in seconds.
    public var meanLatencySeconds: Double
    /// Median latency (the nearest-rank 50th percentile), in seconds.
    public var medianLatencySeconds: Double
    /// Longest latency, in seconds.
    public var maxLatencySeconds: Double

    /// Creates a row.
    public init(
        group: String?,
        requests: Int,
        errors: Int,
        promptTokens: Int,
        completionTokens: Int,
        costUSD: Double,
        meanLatencySeconds: Double,
        medianLatencySeconds: Double,
        maxLatencySeconds: Double
    ) {
        self.group = group
        self.requests = requests
        self.errors = errors
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.costUSD = costUSD
        self.meanLatencySeconds = meanLatencySeconds
        self.medianLatencySeconds = medianLatencySeconds
        self.maxLatencySeconds = maxLatencySeconds
    }

    /// The total of no rows.
    static let nothing = UsageSummaryRow(
        group: nil,
        requests: 0,
        errors: 0,
        promptTokens: 0,
        completionTokens: 0,
        costUSD: 0,
        meanLatencySeconds: 0,
        medianLatencySeconds: 0,
        maxLatencySeconds: 0
    )
}
