import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyFrontDoor
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// `POST /v1/route`: plans a request body exactly as its endpoint would, headers included, and
/// answers the plan without calling any backend.
///
/// The body may be a chat completion, a Responses request (it has `input`) or a Messages request
/// (one chat does not accept, such as content blocks of Anthropic's); `?api=chat|responses|messages`
/// says which when a body could be either. A Responses or Messages body is planned as its
/// translation to chat, which is what its endpoint plans.
struct RouteExplainHandler: Sendable {
    let planning: RequestPlanning
    let maxRequestBytes: Int

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var request = request
        let body = try await RequestBodyReader.collect(&request, limit: maxRequestBytes)
        let chat = try Self.chatRequest(for: body, api: request.uri.queryParameters["api"].map(String.init))
        if let refusal = context.caller.refusal(forModel: chat.model) { throw refusal }
        let plan = try planning.explain(
            model: chat.model,
            request: planning.routingRequest(for: chat, headers: request.headers, caller: context.caller)
        )
        var headers = RoutingHeaders.fields(plan: plan, target: nil, attempts: 0)
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: plan.explanation.buffer))
    }

    /// The chat request `body` is planned as. A Responses body that continues a stored response is
    /// planned without the stored turns.
    static func chatRequest(for body: ByteBuffer, api: String?) throws(GatewayError) -> ChatCompletionRequest {
        switch api {
        case "chat": return try ChatCompletionRequest.parse(body)
        case "responses": return try responsesTranslation(of: body)
        case "messages": return try MessagesChatRequest.parse(body).chat
        case nil: break
        case let other?:
            throw .invalidRequest(
                "Invalid 'api': expected 'chat', 'responses' or 'messages', but got '\(EchoedName.shortened(other))'.",
                param: "api",
                code: "invalid_value"
            )
        }
        let hasInput = body.withUnsafeReadableBytes { bytes in
            ((try? JSONScanner.topLevelMembers(of: bytes)) ?? []).contains { $0.key == "input" }
        }
        if hasInput { return try responsesTranslation(of: body) }
        if looksLikeMessages(body), let messages = try? MessagesChatRequest.parse(body) { return messages.chat }
        do {
            return try ChatCompletionRequest.parse(body)
        } catch {
            // A body chat refuses may be a Messages request; if it is not one either, chat's error
            // is the one to explain.
            guard let messages = try? MessagesChatRequest.parse(body) else { throw error }
            return messages.chat
        }
    }

    /// Content block types of Anthropic's that chat has not: a body with one of them, or with a
    /// top-level `system`, is a Messages request even where chat's looser checks would take it.
    private static let messagesOnlyBlockTypes: Set<String> = [
        "tool_use", "tool_result", "thinking", "redacted_thinking", "document", "search_result",
    ]

    private static func looksLikeMessages(_ body: ByteBuffer) -> Bool {
        guard let json = try? JSONValue.parse(body) else { return false }
        if json["system"] != nil { return true }
        for message in json["messages"]?.arrayValue ?? [] {
            for block in message["content"]?.arrayValue ?? [] {
                guard let type = block["type"]?.stringValue else { continue }
                if messagesOnlyBlockTypes.contains(type) || (type == "image" && block["source"] != nil) { return true }
            }
        }
        return false
    }

    private static func responsesTranslation(of body: ByteBuffer) throws(GatewayError) -> ChatCompletionRequest {
        let responses = try ResponsesRequest.parse(body)
        return try GatewayExtensionField.chatRequest(translated: responses.chatBody(history: []), from: body)
    }
}
