import Logging

/// A streamed answer in progress: what continuing it on another target needs to know.
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
}
