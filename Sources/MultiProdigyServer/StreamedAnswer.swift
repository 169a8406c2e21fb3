import HTTPTypes
import Logging
import MultiProdigyAccounting
import MultiProdigyCore
import MultiProdigyResilience
import MultiProdigyRouting

/// A streamed answer in progress: what accounting for it needs to know.
struct StreamedAnswer: Sendable {
    /// Who sent the request and when, and what its key reserved.
    let meter: RequestMeter
    /// The route or model the client asked for.
    let route: String
    /// The endpoint's label in the metrics and the usage ledger.
    let endpoint: String
    /// The target whose stream committed first; every chunk names it as `model`.
    let target: RouteTarget
    /// Upstream calls made until the stream committed.
    let attempts: Int
    /// From arrival to the first content chunk.
    let timeToFirstToken: Duration
    /// The gateway's own time until then.
    let overhead: Duration

    /// The answer of `admitted` whose stream committed at `target` after `attempts` calls, the
    /// upstream calls having taken `upstreamTime` of the time until now.
    init<Body: PlannableRequest>(
        _ admitted: AdmittedRequest<Body>,
        endpoint: String,
        target: RouteTarget,
        attempts: Int,
        upstreamTime: Duration
    ) {
        let timeToFirstToken = ContinuousClock.now - admitted.meter.receivedAt
        self.init(
            meter: admitted.meter,
            route: admitted.plan.requestedName,
            endpoint: endpoint,
            target: target,
            attempts: attempts,
            timeToFirstToken: timeToFirstToken,
            overhead: timeToFirstToken - upstreamTime
        )
    }

    init(
        meter: RequestMeter,
        route: String,
        endpoint: String,
        target: RouteTarget,
        attempts: Int,
        timeToFirstToken: Duration,
        overhead: Duration
    ) {
        self.meter = meter
        self.route = route
        self.endpoint = endpoint
        self.target = target
        self.attempts = attempts
        self.timeToFirstToken = timeToFirstToken
        self.overhead = overhead
    }

    /// The head fields of a streamed answer: the routing headers, the event-stream content type,
    /// and the gateway's own time until the commit.
    static func headers(plan: RoutePlan, target: RouteTarget, attempts: Int, overhead: Duration) -> HTTPFields {
        var headers = RoutingHeaders.fields(plan: plan, target: target, attempts: attempts)
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        headers[GatewayHeader.overheadMilliseconds] = RoutingHeaders.milliseconds(overhead)
        return headers
    }

    /// The accounting of the answer when it ended with `status`, having used `usage`.
    func outcome(status: Int, target: RouteTarget? = nil, usage: TokenUsage? = nil, costUSD: Double? = nil) -> RequestOutcome {
        meter.outcome(
            endpoint: endpoint,
            route: route,
            target: target ?? self.target,
            status: status,
            attempts: attempts,
            usage: usage,
            costUSD: costUSD,
            timeToFirstToken: timeToFirstToken,
            overhead: overhead
        )
    }
}
