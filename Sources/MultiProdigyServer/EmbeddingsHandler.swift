import Hummingbird
import MultiProdigyAccounting
import MultiProdigyResilience
import MultiProdigyWire

/// `POST /v1/embeddings`: validates, resolves the model like chat, walks the plan and answers in
/// OpenAI's shape whatever the upstream's.
struct EmbeddingsHandler: Sendable {
    let planning: RequestPlanning
    let executor: FailoverExecutor
    let maxRequestBytes: Int
    /// Prices answers and records finished requests.
    let accounting: RequestAccounting

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let admitted = try await AdmittedRequest<EmbeddingsRequest>(
            request,
            context: context,
            planning: planning,
            accounting: accounting,
            maxRequestBytes: maxRequestBytes
        )
        let plan = admitted.plan
        let accounting = self.accounting
        var upstreamTime = Duration.zero
        let result = await ClientDisconnectHandler.cancellingOnDisconnect(of: admitted.connectionID) {
            await executor.embed(
                admitted.request,
                plan: plan,
                totalDeadline: admitted.totalDeadline,
                logger: admitted.logger,
                upstreamTime: &upstreamTime
            ) { body, target in
                try accounting.priced(body, from: target, plan: plan)
            }
        }
        switch result {
        case .success(let priced, let target, let attempts):
            let overhead = (.now - admitted.meter.receivedAt) - upstreamTime
            let headers = admitted.answerHeaders(target: target, attempts: attempts, costUSD: priced.costUSD, overhead: overhead)
            // An embedding has no answer tokens; an estimate from the vectors would be meaningless.
            var usage = priced.usage
            if usage.isEstimated { usage.completionTokens = 0 }
            accounting.finish(
                admitted.meter.outcome(
                    endpoint: Self.endpoint,
                    route: plan.requestedName,
                    target: target,
                    status: 200,
                    attempts: attempts,
                    usage: usage,
                    costUSD: priced.costUSD,
                    overhead: overhead
                ),
                settling: admitted.meter.reservation
            )
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: priced.body))
        case .failure(let error, let target, let attempts):
            return admitted.failure(error, target: target, attempts: attempts, endpoint: Self.endpoint, accounting: accounting)
        }
    }

    static let endpoint = "embeddings"
}
