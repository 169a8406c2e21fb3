import HTTPTypes
import MultiProdigyCore
import MultiProdigyFrontDoor
import MultiProdigyJSON
import MultiProdigyRouting
import NIOCore

/// A `POST /v1/messages` body translated into the Chat Completions request the chat path serves.
struct MessagesChatRequest: ChatPathRequest, GatewayRequestBody {
    /// The client's Messages request.
    let messages: MessagesRequest
    /// Its translation, with the client's `multiprodigy` field carried over.
    let chat: ChatCompletionRequest

    var model: String { chat.model }

    static func parse(_ body: ByteBuffer) throws(GatewayError) -> MessagesChatRequest {
        let messages = try MessagesRequest.parse(body)
        // Server tools and blocks only Anthropic reads have no chat translation.
        if let error = messages.chatTranslationError { throw error }
        let chat = try GatewayExtensionField.chatRequest(translated: messages.chatBody(), from: body)
        return MessagesChatRequest(messages: messages, chat: chat)
    }

    func plan(with planning: RequestPlanning, headers: HTTPFields, caller: RequestCaller) throws(GatewayError) -> RoutePlan {
        try planning.plan(chat, headers: headers, caller: caller)
    }
}
