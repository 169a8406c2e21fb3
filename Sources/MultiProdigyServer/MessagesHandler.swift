import HTTPTypes
import Hummingbird
import Logging
import MultiProdigyCore
import MultiProdigyFrontDoor
import MultiProdigyJSON
import MultiProdigyResilience
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
        var native = admitted.request.native
        native.passedHeaders = Self.passedHeaders(request.headers, api: .messages)
        let path = FrontDoorPath(chat: chat)
        let translatable = !admitted.request.requiresNativeTarget
        if admitted.request.messages.isStreaming {
            let framing = MessagesFraming(
                messageID: MessagesResponseRenderer.randomMessageID(),
                estimatedInputTokens: Self.estimatedPromptTokens(of: admitted.request.chat)
            )
            return await path.stream(
                admitted,
                native: native,
                translatable: translatable,
                framing: framing,
                endpoint: Self.endpoint,
                envelope: .anthropic
            )
        }
        return await path.complete(admitted, native: native, translatable: translatable, endpoint: Self.endpoint, envelope: .anthropic) {
            priced throws(GatewayError) in
            MessagesResponseRenderer.message(from: try ChatAnswer.reading(priced.body))
        }
    }

    /// The client's headers that belong to `api` and go upstream with it (``NativeRequest/passedHeaderNames(for:)``).
    static func passedHeaders(_ headers: HTTPFields, api: NativeAPI) -> [String: String] {
        var passed: [String: String] = [:]
        for name in NativeRequest.passedHeaderNames(for: api) {
            guard let field = HTTPField.Name(name) else { continue }
            let values = headers[values: field]
            if !values.isEmpty { passed[name] = values.joined(separator: ",") }
        }
        return passed
    }

    /// `POST /v1/messages/count_tokens`: the prompt's tokens, for a model the caller may use.
    ///
    /// When the model has a target that speaks the Messages API (Anthropic), the first of them that
    /// answers counts them (`x-multiprodigy-token-count: upstream`). Otherwise, or when none
    /// answers, the gateway's own estimate (the one that plans and limits requests) is the answer,
    /// and it says so: `"estimated": true` in the body and `x-multiprodigy-token-count: estimated`.
    func countTokens(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var request = request
        let body = try await RequestBodyReader.collect(&request, limit: chat.maxRequestBytes)
        let messages = try MessagesRequest.parseForCounting(body)
        let chatRequest = try GatewayExtensionField.chatRequest(translated: messages.chatBody(), from: body)
        if let refusal = context.caller.refusal(forModel: chatRequest.model) { throw refusal }
        // An unknown model is 404, as for a message.
        let plan = try chat.planning.plan(chatRequest, nativeBody: body, headers: request.headers, caller: context.caller)
        let native = try NativeRequest(
            api: .messagesCountTokens,
            body: body,
            passedHeaders: Self.passedHeaders(request.headers, api: .messagesCountTokens)
        )
        if let counted = await upstreamCount(native, plan: plan, connectionID: context.connectionID, logger: context.logger) {
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", GatewayHeader.tokenCount: "upstream"],
                body: .init(byteBuffer: counted)
            )
        }
        // Server tools and blocks only Anthropic reads cannot be estimated as chat.
        if let error = messages.chatTranslationError { throw error }
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

    /// The count from the first target of `plan` that speaks the Messages API and answers with
    /// one; nil when there is none. A failure is logged, and the caller estimates instead: a count
    /// is advice, and the message itself will meet the same upstream's refusal if it is real.
    ///
    /// Outside the failover walk on purpose: a count is not an answer, so it neither teaches the
    /// latency tracker (a 100 ms count would make the target look fast) nor trips the target's
    /// breaker (Anthropic limits counting apart from messages). Each try has 10 s at most.
    private func upstreamCount(
        _ native: NativeRequest,
        plan: RoutePlan,
        connectionID: ObjectIdentifier?,
        logger: Logger
    ) async -> ByteBuffer? {
        let executor = chat.executor
        let counters = plan.entries.compactMap { entry -> (RouteTarget, any LLMProvider)? in
            guard let provider = executor.provider(for: entry.target, in: plan), provider.nativeAPIs.contains(.messagesCountTokens) else {
                return nil
            }
            return (entry.target, provider)
        }
        guard !counters.isEmpty else { return nil }
        return await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) { () async -> ByteBuffer? in
            for (target, provider) in counters {
                let deadline = ContinuousClock.now.advanced(by: min(plan.timeouts.total, Self.countDeadline))
                let call = NativeCall(
                    request: native,
                    upstreamModel: target.upstreamModel,
                    responseDeadline: deadline.nioDeadline,
                    logger: logger
                )
                do {
                    let answer = try await provider.completeNative(call)
                    guard let tokens = Self.inputTokens(in: answer) else {
                        throw ProviderError(kind: .protocolViolation, message: "the upstream's token count has no input_tokens")
                    }
                    var body = ByteBuffer()
                    body.writeStaticString("{\"input_tokens\":")
                    body.writeString(String(tokens))
                    body.writeStaticString("}")
                    return body
                } catch {
                    guard !Task.isCancelled else { return nil }
                    let failure = executor.scrubber.scrub(ProviderError.classify(error))
                    logger.notice(
                        "count_tokens: no count from the target",
                        metadata: ["target": "\(target.name)", "error": "\(failure.message)"]
                    )
                }
            }
            return nil
        }
    }

    /// The longest a target may take to count a prompt.
    static let countDeadline = Duration.seconds(10)

    /// `input_tokens` of a count_tokens answer.
    static func inputTokens(in answer: ByteBuffer) -> Int? {
        answer.withUnsafeReadableBytes { bytes in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes),
                let tokens = members.last(where: { $0.key == "input_tokens" && $0.kind == .number })
            else { return nil }
            return JSONScanner.integer(at: tokens.value, in: bytes)
        }
    }

    static func estimatedPromptTokens(of chat: ChatCompletionRequest) -> Int {
        chat.body.withUnsafeReadableBytes { TokenEstimator.estimatePromptTokens(ofRequestBody: $0, members: chat.members) }
    }
}
