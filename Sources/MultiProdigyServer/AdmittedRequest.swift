import HTTPTypes
import Hummingbird
import Logging
import MultiProdigyAccounting
import MultiProdigyCore
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// A request let in to be served: its body read, parsed and allowed to its caller, its plan made,
/// its key's budget and rate limits charged, and its time budget started.
///
/// Every endpoint that calls upstreams starts with this one step; a JSON answer ends with
/// ``respond(endpoint:accounting:countsEstimatedAnswerTokens:call:)``, a stream that fails to
/// start with ``failure(_:target:attempts:endpoint:accounting:)``.
///
/// ```swift
/// let admitted = try await AdmittedRequest<EmbeddingsRequest>(request, context: context, planning: planning, accounting: accounting, maxRequestBytes: limit)
/// ```
struct AdmittedRequest<Body: PlannableRequest>: Sendable {
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

    /// Admits `body`, which the handler read and parsed itself (a Responses request that continues
    /// a stored one needs the store before it can be translated).
    ///
    /// - Throws: ``GatewayError``: the key's refusal of the model (403) or of the request (429,
    ///   400 `unpriced_model`), and the planner's (404, `no_private_target`, ...).
    init(
        _ body: Body,
        headers: HTTPFields,
        context: GatewayRequestContext,
        planning: RequestPlanning,
        accounting: RequestAccounting
    ) async throws {
        let caller = context.caller
        context.trace?.requested(model: body.model)
        if let refusal = caller.refusal(forModel: body.model) { throw refusal }
        var plan: RoutePlan
        if let trace = context.trace {
            plan = try trace.planning { () throws(GatewayError) in try body.plan(with: planning, headers: headers, caller: caller) }
        } else {
            plan = try body.plan(with: planning, headers: headers, caller: caller)
        }
        self.meter = try await accounting.meter(for: context, plan: &plan)
        self.request = body
        self.plan = plan
        self.totalDeadline = ContinuousClock.now.advanced(by: plan.timeouts.total)
        self.logger = context.logger
        self.connectionID = context.connectionID
    }

    /// Has `call` walk the plan, interrupted if the client goes away, and answers with its priced
    /// JSON body, or with the error when no target answered; either way the request is accounted
    /// for.
    ///
    /// - Parameters:
    ///   - endpoint: The endpoint's label in the metrics and the usage ledger.
    ///   - countsEstimatedAnswerTokens: Whether an answer whose upstream reported no usage counts
    ///     the answer tokens estimated from its text (an embedding has none).
    ///   - call: The executor's walk, adding its time in upstream calls to the `Duration` it is
    ///     given, so the gateway's own time can be told apart.
    ///   - envelope: The shape of the error body when no target answered.
    ///   - render: The answer's body in the client's API's shape (the priced body itself for chat
    ///     and embeddings); an error it throws is answered as if no target had answered.
    func respond(
        endpoint: String,
        accounting: RequestAccounting,
        countsEstimatedAnswerTokens: Bool = true,
        envelope: ErrorEnvelope = .openAI,
        render: @Sendable (CostAnnotation.PricedCompletion) async throws(GatewayError) -> ByteBuffer = { $0.body },
        call: (inout Duration) async -> ExecutionResult<CostAnnotation.PricedCompletion>
    ) async -> Response {
        await respond(
            endpoint: endpoint,
            accounting: accounting,
            countsEstimatedAnswerTokens: countsEstimatedAnswerTokens,
            envelope: envelope,
            priced: { $0 },
            render: render,
            call: call
        )
    }

    /// ``respond(endpoint:accounting:countsEstimatedAnswerTokens:envelope:render:call:)`` for an
    /// answer of the caller's own type, `priced` saying what it cost.
    func respond<Answer: Sendable>(
        endpoint: String,
        accounting: RequestAccounting,
        countsEstimatedAnswerTokens: Bool = true,
        envelope: ErrorEnvelope = .openAI,
        priced pricing: (Answer) -> CostAnnotation.PricedCompletion,
        render: @Sendable (Answer) async throws(GatewayError) -> ByteBuffer,
        call: (inout Duration) async -> ExecutionResult<Answer>
    ) async -> Response {
        var upstreamTime = Duration.zero
        let result = await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) { await call(&upstreamTime) }
        switch result {
        case .success(let answer, let target, let attempts):
            let priced = pricing(answer)
            let body: ByteBuffer
            do {
                body = try await render(answer)
            } catch {
                return failure(error, target: target, attempts: attempts, endpoint: endpoint, accounting: accounting, envelope: envelope)
            }
            let overhead = (.now - meter.receivedAt) - upstreamTime
            var headers = RoutingHeaders.fields(plan: plan, target: target, attempts: attempts)
            headers[.contentType] = "application/json"
            RoutingHeaders.addAccounting(to: &headers, costUSD: priced.costUSD, overhead: overhead)
            var usage = priced.usage
            if !countsEstimatedAnswerTokens, usage.isEstimated { usage.completionTokens = 0 }
            accounting.finish(
                meter.outcome(
                    endpoint: endpoint,
                    route: plan.requestedName,
                    target: target,
                    status: 200,
                    attempts: attempts,
                    usage: usage,
                    costUSD: priced.costUSD,
                    overhead: overhead
                ),
                of: meter,
                finishReasons: RequestTrace.finishReasons(in: priced.body)
            )
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        case .failure(let error, let target, let attempts):
            return failure(error, target: target, attempts: attempts, endpoint: endpoint, accounting: accounting, envelope: envelope)
        }
    }

    /// The response (its body in `envelope`'s shape), and the accounting, of a request no target
    /// answered.
    func failure(
        _ error: GatewayError,
        target: RouteTarget?,
        attempts: Int,
        endpoint: String,
        accounting: RequestAccounting,
        envelope: ErrorEnvelope = .openAI
    ) -> Response {
        logger.info("request failed", metadata: ["status": .stringConvertible(Int(error.status.code)), "code": "\(error.code ?? "-")"])
        accounting.finish(
            meter.failed(endpoint: endpoint, plan: plan, error: error, target: target, attempts: attempts),
            of: meter
        )
        return error.response(headers: RoutingHeaders.fields(plan: plan, target: target, attempts: attempts), envelope: envelope)
    }
}

extension AdmittedRequest where Body: GatewayRequestBody {
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
        let body = try await Body.read(from: &request, limit: maxRequestBytes)
        try await self.init(body, headers: request.headers, context: context, planning: planning, accounting: accounting)
    }
}
