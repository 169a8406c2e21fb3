/// The names of the span attributes the gateway records: OpenTelemetry's GenAI and HTTP semantic
/// conventions, and the gateway's own under `multiprodigy.`.
///
/// No attribute holds a prompt, an answer or a secret: names, counts, statuses and kinds only.
public enum TraceAttribute {
    /// `gen_ai.operation.name`: `chat` or `embeddings`.
    public static let operationName = "gen_ai.operation.name"
    /// `gen_ai.provider.name`: the provider's type (`openai`, `anthropic`, `gcp.gemini`, `ollama`, ...).
    public static let providerName = "gen_ai.provider.name"
    /// `gen_ai.request.model`: the model the client asked for (a request span), or the upstream's
    /// model name (an attempt span).
    public static let requestModel = "gen_ai.request.model"
    /// `gen_ai.response.model`: the declared name of the model that answered.
    public static let responseModel = "gen_ai.response.model"
    /// `gen_ai.usage.input_tokens`.
    public static let inputTokens = "gen_ai.usage.input_tokens"
    /// `gen_ai.usage.output_tokens`.
    public static let outputTokens = "gen_ai.usage.output_tokens"
    /// `gen_ai.response.finish_reasons`: every choice's `finish_reason`.
    public static let finishReasons = "gen_ai.response.finish_reasons"
    /// `http.response.status_code`: the status the client got (request span) or the upstream's
    /// (attempt span).
    public static let httpStatus = "http.response.status_code"
    /// `error.type`: the error code the client got, or the kind of an attempt's failure
    /// (`server`, `timeout`, `connection`, ...).
    public static let errorType = "error.type"
    /// `multiprodigy.route`: the route or model the client asked for.
    public static let route = "multiprodigy.route"
    /// `multiprodigy.policy`: the routing policy the plan was ranked by.
    public static let policy = "multiprodigy.policy"
    /// `multiprodigy.cost_usd`: what the answer cost.
    public static let costUSD = "multiprodigy.cost_usd"
    /// `multiprodigy.target`: the declared model (target) of an attempt or of the answer.
    public static let target = "multiprodigy.target"
    /// `multiprodigy.provider`: the configured provider's name.
    public static let provider = "multiprodigy.provider"
    /// `multiprodigy.attempts`: upstream calls a request made, continuations included.
    public static let attempts = "multiprodigy.attempts"
    /// `multiprodigy.attempt`: the number of an attempt within its request (1 for the first).
    public static let attempt = "multiprodigy.attempt"
    /// `multiprodigy.attempt.outcome`: `success`, `failure` or `cancelled`.
    public static let attemptOutcome = "multiprodigy.attempt.outcome"
    /// `multiprodigy.attempt.next`: after a failed attempt, `retry` (the same target again),
    /// `failover` (the next target) or `stop` (the upstream's own 4xx goes to the client).
    public static let attemptNext = "multiprodigy.attempt.next"
    /// `multiprodigy.retry.reason`: the failure kind that made the executor retry the target.
    public static let retryReason = "multiprodigy.retry.reason"
    /// `multiprodigy.retry.delay_ms`: the backoff before the retry.
    public static let retryDelay = "multiprodigy.retry.delay_ms"
    /// `multiprodigy.failover.reason`: the failure kind that moved the request to the next target.
    public static let failoverReason = "multiprodigy.failover.reason"
    /// `multiprodigy.plan.targets`: the planned targets, in order.
    public static let planTargets = "multiprodigy.plan.targets"
    /// `multiprodigy.plan.excluded`: how many targets the planner left out.
    public static let planExcluded = "multiprodigy.plan.excluded"
    /// `multiprodigy.private`: whether the request was kept to local targets.
    public static let isPrivate = "multiprodigy.private"
    /// `multiprodigy.continuation.cut_target`: the target whose stream was cut.
    public static let cutTarget = "multiprodigy.continuation.cut_target"
    /// `multiprodigy.continuation.cut_reason`: the failure kind that cut it.
    public static let cutReason = "multiprodigy.continuation.cut_reason"
    /// `multiprodigy.continuation.outcome`: `prefilled`, `spliced` or `none`.
    public static let continuationOutcome = "multiprodigy.continuation.outcome"
    /// `multiprodigy.stream`: whether the answer was streamed.
    public static let stream = "multiprodigy.stream"

    /// `gen_ai.provider.name` for a provider of `type`: the convention's well-known value where it
    /// has one (`gcp.gemini`), else the type itself.
    public static func providerName(forType type: String) -> String {
        switch type {
        case "gemini": "gcp.gemini"
        default: type
        }
    }
}
