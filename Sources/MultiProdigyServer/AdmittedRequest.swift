import HTTPTypes
import Hummingbird
import Logging
import MultiProdigyAccounting
import MultiProdigyRouting
import MultiProdigyWire

/// A request let in to be served: its body read, parsed and allowed to its caller, its plan made,
/// its key's budget and rate limits charged, and its time budget started.
///
/// Every endpoint that calls upstreams starts with this one step, and ends through its
/// ``failure(_:target:attempts:endpoint:accounting:)`` or with ``answerHeaders(target:attempts:costUSD:overhead:)``.
///
/// ```swift
/// let admitted = try await AdmittedRequest<EmbeddingsRequest>(request, context: context, planning: planning, accounting: accounting, maxRequestBytes: limit)
/// ```
struct AdmittedRequest<Body: GatewayRequestBody>: Sendable {
    /// The client's request.
    let request: Body
    /// The targets to try, without those its key's budget rules out.
    let plan: RoutePlan
    /// Who sent it and when, and what its key reserved.
    let meter: RequestMeter
    /// When the whole request must be over (`timeouts.total` from its arrival here).
    let totalDeadline: ContinuousClock.Instant
    /// The request's logger.
    let logger: Logger
    /// The client's connection, which interrupts the request when it goes away.
    let connectionID: ObjectIdentifier?

    /// Admits `request`.
    ///
    /// - Throws: ``GatewayError``: the body's (413, 400), the key's refusal of the model (403) or
    ///   of the request (429, 400 `unpriced_model`), and the planner's (404, `no_private_target`, ...).
    init(
        _ request: Request,
        context: GatewayRequestContext,
        planning: RequestPlanning,
        accounting: RequestAccounting,
        maxRequestBytes: Int
    ) async throws {
        var request = request
        let caller = context.caller
        let body = try await Body.read(from: &request, caller: caller, limit: maxRequestBytes)
        var plan = try body.plan(with: planning, headers: request.headers, caller: caller)
        self.meter = try accounting.meter(for: context, plan: &plan)
        self.request = body
        self.plan = plan
        self.totalDeadline = ContinuousClock.now.advanced(by: plan.timeouts.total)
        self.logger = context.logger
        self.connectionID = context.connectionID
    }

    /// The headers of a JSON answer from `target`: how it was routed, what it cost, and the
    /// gateway's own time.
    func answerHeaders(target: RouteTarget, attempts: Int, costUSD: Double?, overhead: Duration) -> HTTPFields {
        var headers = RoutingHeaders.fields(plan: plan, target: target, attempts: attempts)
        headers[.contentType] = "application/json"
        RoutingHeaders.addAccounting(to: &headers, costUSD: costUSD, overhead: overhead)
        return headers
    }

    /// The response, and the accounting, of a request no target answered.
    func failure(
        _ error: GatewayError,
        target: RouteTarget?,
        attempts: Int,
        endpoint: String,
        accounting: RequestAccounting
    ) -> Response {
        logger.info("request failed", metadata: ["status": "\(error.status.code)", "code": "\(error.code ?? "-")"])
        accounting.finish(
            meter.failed(endpoint: endpoint, plan: plan, error: error, target: target, attempts: attempts),
            settling: meter.reservation
        )
        return error.response(headers: RoutingHeaders.fields(plan: plan, target: target, attempts: attempts))
    }
}
