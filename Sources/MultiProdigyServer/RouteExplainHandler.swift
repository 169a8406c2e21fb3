import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// `POST /v1/route`: plans a chat-completion body exactly as `POST /v1/chat/completions` would,
/// headers included, and answers the plan without calling any backend.
struct RouteExplainHandler: Sendable {
    let planning: RequestPlanning
    let maxRequestBytes: Int

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var request = request
        let chat = try await ChatCompletionRequest.read(from: &request, limit: maxRequestBytes)
        if let refusal = context.caller.refusal(forModel: chat.model) { throw refusal }
        let plan = try planning.explain(
            model: chat.model,
            request: planning.routingRequest(for: chat, headers: request.headers, caller: context.caller)
        )
        var headers = RoutingHeaders.fields(plan: plan, target: nil, attempts: 0)
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: plan.explanation.buffer))
    }
}
