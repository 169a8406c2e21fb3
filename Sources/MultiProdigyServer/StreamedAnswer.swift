import Logging
import MultiProdigyResilience
import MultiProdigyRouting
import MultiProdigyCore

/// A streamed answer in progress: what continuing it on another target, and accounting for it,
/// need to know.
struct StreamedAnswer: Sendable {
    /// The client's request.
    let chat: ChatCompletionRequest
    /// The plan it was routed by.
    let plan: RoutePlan
    /// The target whose stream committed first; every chunk names it as `model`.
    let target: RouteTarget
    /// When the whole request must be over, continuations included.
    let totalDeadline: ContinuousClock.Instant
    /// The request's logger.
    let logger: Logger
    /// The request's id, caller and arrival, for the ledger and metrics.
    let meter: RequestMeter
    /// Upstream calls made until the stream committed.
    let attempts: Int
    /// From arrival to the first content chunk.
    let timeToFirstToken: Duration
    /// The gateway's own time until then.
    let overhead: Duration
}
