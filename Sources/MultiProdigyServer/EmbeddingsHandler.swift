import Hummingbird
import Logging
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import MultiProdigyCore
import NIOCore

/// `POST /v1/embeddings`: validates, resolves the model like chat, walks the plan and answers in
/// OpenAI's shape whatever the upstream's.
struct EmbeddingsHandler: Sendable {
    let planning: RequestPlanning
    let executor: FailoverExecutor
    let maxRequestBytes: Int
    /// Prices answers and records finished requests.
    let accounting: RequestAccounting

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var request = request
        let body = try await RequestBodyReader.collect(&request, limit: maxRequestBytes)
        let embeddings = try EmbeddingsRequest.parse(body)
        let caller = context.caller
        if let refusal = caller.refusal(forModel: embeddings.model) { throw refusal }
        var plan = try planning.plan(embeddings, headers: request.headers, caller: caller)
        let meter = try accounting.meter(for: context, plan: &plan)
        let totalDeadline = ContinuousClock.now.advanced(by: plan.timeouts.total)
        let logger = context.logger
        let accounting = self.accounting
        var upstreamTime = Duration.zero
        let result = await ClientDisconnectHandler.cancellingOnDisconnect(of: context.connectionID) {
            await executor.run(plan, totalDeadline: totalDeadline, upstreamTime: &upstreamTime) { target, provider in
                let call = EmbeddingsCall(
                    request: embeddings,
                    upstreamModel: target.upstreamModel,
                    responseDeadline: totalDeadline.nioDeadline,
                    logger: logger
                )
                let body: ByteBuffer
                switch try await provider.embed(call) {
                case .openAIBody(let answer):
                    body = answer
                case .vectors(let vectors, let promptTokens):
                    guard vectors.count == embeddings.inputs.count else {
                        throw ProviderError(
                            kind: .protocolViolation,
                            message: "the upstream returned \(vectors.count) vectors for \(embeddings.inputs.count) inputs"
                        )
                    }
                    body = EmbeddingsResponseRenderer.render(
                        vectors,
                        model: target.name,
                        promptTokens: promptTokens,
                        format: embeddings.encodingFormat
                    )
                }
                return try accounting.priced(body, from: target, plan: plan)
            }
        }
        switch result {
        case .success(let priced, let target, let attempts):
            let overhead = (.now - meter.receivedAt) - upstreamTime
            var headers = RoutingHeaders.fields(plan: plan, target: target, attempts: attempts)
            headers[.contentType] = "application/json"
            RoutingHeaders.addAccounting(to: &headers, costUSD: priced.costUSD, overhead: overhead)
            // An embedding has no answer tokens; an estimate from the vectors would be meaningless.
            var usage = priced.usage
            if usage.isEstimated { usage.completionTokens = 0 }
            accounting.finish(
                meter.outcome(
                    endpoint: Self.endpoint,
                    route: plan.requestedName,
                    target: target,
                    status: 200,
                    attempts: attempts,
                    usage: usage,
                    costUSD: priced.costUSD,
                    overhead: overhead
                ),
                settling: meter.reservation
            )
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: priced.body))
        case .failure(let error, let target, let attempts):
            logger.info("request failed", metadata: ["status": "\(error.status.code)", "code": "\(error.code ?? "-")"])
            accounting.finish(
                meter.failed(endpoint: Self.endpoint, plan: plan, error: error, target: target, attempts: attempts),
                settling: meter.reservation
            )
            return error.response(headers: RoutingHeaders.fields(plan: plan, target: target, attempts: attempts))
        }
    }

    static let endpoint = "embeddings"
}
