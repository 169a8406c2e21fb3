import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting

/// What a handler carries from a request's arrival to its accounting: who sent it and when.
struct RequestMeter: Sendable {
    /// `x-multiprodigy-request-id`.
    let requestID: String
    /// Who sent it.
    let caller: RequestCaller
    /// When its head arrived.
    let receivedAt: ContinuousClock.Instant
    /// What its key reserved of its budget and rate limits, settled when it ends.
    var reservation: KeyLimiter.Reservation?
    /// The attempts the request made, for its ledger row and access line.
    let trail: AttemptTrail?
    /// The request's span, when it is traced.
    let trace: RequestTrace?

    /// The meter of the request `context` belongs to.
    init(_ context: GatewayRequestContext) {
        self.trace = context.trace
        self.requestID = context.requestID
        self.caller = context.caller
        self.receivedAt = context.receivedAt
        self.trail = context.trail
    }

    /// The outcome of a request that ends now.
    func outcome(
        endpoint: String,
        route: String?,
        target: RouteTarget?,
        status: Int,
        attempts: Int,
        usage: TokenUsage? = nil,
        costUSD: Double? = nil,
        timeToFirstToken: Duration? = nil,
        overhead: Duration? = nil
    ) -> RequestOutcome {
        var outcome = RequestOutcome(
            requestID: requestID,
            endpoint: endpoint,
            attempts: attempts,
            route: route,
            target: target,
            status: status,
            duration: .now - receivedAt,
            timeToFirstToken: timeToFirstToken,
            overhead: overhead,
            usage: usage,
            costUSD: costUSD,
            keyName: caller.name
        )
        if let trail {
            outcome.path = trail.steps
            outcome.triedTargets = trail.targets
        }
        return outcome
    }

    /// The outcome of a request that failed now with `error`.
    func failed(endpoint: String, plan: RoutePlan, error: GatewayError, target: RouteTarget?, attempts: Int) -> RequestOutcome {
        outcome(endpoint: endpoint, route: plan.requestedName, target: target, status: Int(error.status.code), attempts: attempts)
    }
}
