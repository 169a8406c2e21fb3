import HTTPTypes
import MultiProdigyCore
import MultiProdigyFrontDoor
import MultiProdigyRouting

/// A `POST /v1/responses` body translated, with the stored conversation it continues, into the
/// Chat Completions request the chat path serves.
struct ResponsesChatRequest: ChatPathRequest {
    /// The client's Responses request.
    let responses: ResponsesRequest
    /// Its translation, with the client's `multiprodigy` field carried over.
    let chat: ChatCompletionRequest

    var model: String { chat.model }

    func plan(with planning: RequestPlanning, headers: HTTPFields, caller: RequestCaller) throws(GatewayError) -> RoutePlan {
        try planning.plan(chat, headers: headers, caller: caller)
    }
}
