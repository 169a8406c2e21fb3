/// The answer length a plan prices every candidate by: one figure for the whole plan, so the cost
/// policy ranks targets by their price for the same work, not by what each happened to serve.
///
/// It is the request's `max_tokens` (or `max_completion_tokens`) when set, else the average length
/// of the answers the route (or model) has given, else ``RoutePlanner/defaultCompletionTokens``.
/// A target's own `output_factor` then scales it for that target alone.
public struct AnswerLengthEstimate: Sendable, Equatable {
    /// Where the figure comes from, as `POST /v1/route` names it.
    public enum Source: String, Sendable, Equatable {
        /// The request's `max_tokens` or `max_completion_tokens`.
        case maxTokens = "max_tokens"
        /// The route's (or model's) observed average answer length.
        case routeAverage = "route_average"
        /// No limit and nothing observed yet: the planner's default guess.
        case standard = "default"
    }

    /// Expected answer tokens per choice.
    public var tokens: Int
    /// Where ``tokens`` comes from.
    public var source: Source

    /// Creates an estimate.
    public init(tokens: Int, source: Source) {
        self.tokens = tokens
        self.source = source
    }

    /// The estimate for a request that allows `maxOutputTokens` (nil: no limit) on a route whose
    /// answers averaged `routeAverage` tokens (nil: none observed).
    public static func estimate(maxOutputTokens: Int?, routeAverage: Double?) -> AnswerLengthEstimate {
        if let maxOutputTokens { return AnswerLengthEstimate(tokens: min(maxOutputTokens, 1 << 40), source: .maxTokens) }
        if let routeAverage, routeAverage.isFinite, routeAverage >= 0 {
            return AnswerLengthEstimate(tokens: Int(routeAverage.rounded()), source: .routeAverage)
        }
        return AnswerLengthEstimate(tokens: RoutePlanner.defaultCompletionTokens, source: .standard)
    }
}
