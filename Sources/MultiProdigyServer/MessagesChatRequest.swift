import HTTPTypes
import MultiProdigyCore
import MultiProdigyFrontDoor
import MultiProdigyJSON
import MultiProdigyRouting
import NIOCore

/// A `POST /v1/messages` body, validated, with the Chat Completions request that plans it and
/// serves it on targets that do not speak the Messages API themselves.
struct MessagesChatRequest: ChatPathRequest, GatewayRequestBody {
    /// The client's Messages request.
    let messages: MessagesRequest
    /// The client's request as it came, for targets that speak the Messages API (Anthropic); its
    /// headers are the handler's to add.
    var native: NativeRequest
    /// Its translation, with the client's `multiprodigy` field carried over. A request that uses
    /// what only Anthropic reads (``requiresNativeTarget``) is translated without it, for planning.
    let chat: ChatCompletionRequest

    var model: String { chat.model }

    /// Whether only a target that speaks the Messages API can serve it: it uses an
    /// Anthropic-defined (server) tool, or a block only Anthropic reads.
    var requiresNativeTarget: Bool { messages.chatTranslationError != nil }

    static func parse(_ body: ByteBuffer) throws(GatewayError) -> MessagesChatRequest {
        let messages = try MessagesRequest.parse(body)
        let chat = try GatewayExtensionField.chatRequest(translated: messages.chatBody(), from: body)
        return MessagesChatRequest(messages: messages, native: try NativeRequest(api: .messages, body: body), chat: chat)
    }

    func plan(with planning: RequestPlanning, headers: HTTPFields, caller: RequestCaller) throws(GatewayError) -> RoutePlan {
        let plan = try planning.plan(chat, nativeBody: native.body, headers: headers, caller: caller)
        guard let refusal = messages.chatTranslationError else { return plan }
        return try planning.restricting(plan, to: .messages, refusal: refusal)
    }
}
