import Hummingbird
import Logging
import NIOCore

/// `POST /v1/embeddings`: validates, resolves the model like chat, walks the plan and answers in
/// OpenAI's shape whatever the upstream's.
struct EmbeddingsHandler: Sendable {
    let planning: RequestPlanning
    let executor: FailoverExecutor
    let maxRequestBytes: Int

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var request = request
        let body = try await RequestBodyReader.collect(&request, limit: maxRequestBytes)
        let embeddings = try EmbeddingsRequest.parse(body)
        let plan = try planning.plan(embeddings, headers: request.headers)
        let totalDeadline = ContinuousClock.now.advanced(by: plan.timeouts.total)
        let logger = context.logger
        let result = await ClientDisconnectHandler.cancellingOnDisconnect(of: context.connectionID) {
            await executor.run(plan, totalDeadline: totalDeadline) { target, provider in
                let call = EmbeddingsCall(
                    request: embeddings,
                    upstreamModel: target.upstreamModel,
                    responseDeadline: totalDeadline.nioDeadline,
                    logger: logger
                )
                switch try await provider.embed(call) {
                case .openAIBody(let answer):
                    guard let rewritten = ChatCompletionsHandler.rewriteModel(of: answer, to: target.name) else {
                        throw ProviderError(kind: .protocolViolation, message: "the upstream's answer is not a JSON object")
                    }
                    return rewritten
                case .vectors(let vectors, let promptTokens):
                    guard vectors.count == embeddings.inputs.count else {
                        throw ProviderError(
                            kind: .protocolViolation,
                            message: "the upstream returned \(vectors.count) vectors for \(embeddings.inputs.count) inputs"
                        )
                    }
                    return EmbeddingsResponseRenderer.render(
                        vectors,
                        model: target.name,
                        promptTokens: promptTokens,
                        format: embeddings.encodingFormat
                    )
                }
            }
        }
        switch result {
        case .success(let answer, let target, let attempts):
            var headers = RoutingHeaders.fields(plan: plan, target: target, attempts: attempts)
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: answer))
        case .failure(let error, let target, let attempts):
            logger.info("request failed", metadata: ["status": "\(error.status.code)", "code": "\(error.code ?? "-")"])
            return error.response(headers: RoutingHeaders.fields(plan: plan, target: target, attempts: attempts))
        }
    }
}
