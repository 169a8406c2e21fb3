import HTTPTypes
import Hummingbird
import MultiProdigyCore
import MultiProdigyFrontDoor
import MultiProdigyJSON
import MultiProdigyRouting
import NIOCore

/// `POST /v1/messages` and `POST /v1/messages/count_tokens`: Anthropic's Messages API, served
/// through the chat path (planning, failover, continuation, accounting) and answered in Anthropic's
/// shapes, its errors in Anthropic's envelope (``ErrorEnvelope/anthropic``, which the middleware
/// applies to every error on these paths).
struct MessagesHandler: Sendable {
    /// The chat path.
    let chat: ChatCompletionsHandler

    /// The endpoint's label in the metrics and the usage ledger.
    static let endpoint = "messages"

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let admitted = try await AdmittedRequest<MessagesChatRequest>(
            request,
            context: context,
            planning: chat.planning,
            accounting: chat.accounting,
            maxRequestBytes: chat.maxRequestBytes
        )
        if admitted.request.messages.isStreaming {
            let framing = MessagesFraming(
                messageID: MessagesResponseRenderer.randomMessageID(),
                estimatedInputTokens: Self.estimatedPromptTokens(of: admitted.request.chat)
            )
            return await chat.stream(admitted, framing: framing, endpoint: Self.endpoint, envelope: .anthropic)
        }
        return await chat.complete(admitted, endpoint: Self.endpoint, envelope: .anthropic) { priced throws(GatewayError) in
            MessagesResponseRenderer.message(from: try ChatAnswer.reading(priced.body))
        }
    }

    /// `POST /v1/messages/count_tokens`: the prompt's tokens as the gateway estimates them (the
    /// same estimate that plans and limits requests), for a model the caller may use.
    ///
    /// The answer says it is an estimate: `"estimated": true` in the body and
    /// `x-multiprodigy-token-count: estimated`.
    func countTokens(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var request = request
        let body = try await RequestBodyReader.collect(&request, limit: chat.maxRequestBytes)
        let messages = try MessagesRequest.parseForCounting(body)
        if let error = messages.chatTranslationError { throw error }
        let chatRequest = try GatewayExtensionField.chatRequest(translated: messages.chatBody(), from: body)
        if let refusal = context.caller.refusal(forModel: chatRequest.model) { throw refusal }
        // An unknown model is 404, as for a message.
        _ = try chat.planning.plan(chatRequest, headers: request.headers, caller: context.caller)
        var answer = ByteBuffer()
        answer.writeStaticString("{\"input_tokens\":")
        answer.writeString(String(Self.estimatedPromptTokens(of: chatRequest)))
        answer.writeStaticString(",\"estimated\":true}")
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", GatewayHeader.tokenCount: "estimated"],
            body: .init(byteBuffer: answer)
        )
    }

    static func estimatedPromptTokens(of chat: ChatCompletionRequest) -> Int {
        chat.body.withUnsafeReadableBytes { TokenEstimator.estimatePromptTokens(ofRequestBody: $0, members: chat.members) }
    }
}
