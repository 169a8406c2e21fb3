import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
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
        let admitted = try await AdmittedRequest<EmbeddingsRequest>(
            request,
            context: context,
            planning: planning,
            accounting: accounting,
            maxRequestBytes: maxRequestBytes
        )
        let plan = admitted.plan
        let accounting = self.accounting
        // An embedding has no answer tokens; an estimate from the vectors would be meaningless.
        return await admitted.respond(endpoint: Self.endpoint, accounting: accounting, countsEstimatedAnswerTokens: false) {
            upstreamTime in
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
    }

    static let endpoint = "embeddings"
}
