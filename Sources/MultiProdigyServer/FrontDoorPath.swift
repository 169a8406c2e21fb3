import Hummingbird
import MultiProdigyAccounting
import MultiProdigyCore
import MultiProdigyFrontDoor
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// Serves a request of a front-door API other than chat (Responses, Messages) on its plan: passed
/// through to each target that speaks the API itself (``LLMProvider/nativeAPIs``), translated
/// through the chat path for the others. Admission, failover, breakers and accounting are chat's.
struct FrontDoorPath: Sendable {
    /// The chat path: its executor, accounting and stream writing.
    let chat: ChatCompletionsHandler

    /// Answers `admitted` with one JSON body in the client's API.
    ///
    /// - Parameters:
    ///   - native: The client's request, passed to targets that speak its API.
    ///   - translatable: Whether targets that do not may be asked through chat (`admitted`'s chat
    ///     translation); false when the request needs what only the API has (a server tool).
    ///   - renderTranslated: A chat answer rendered in the client's API.
    ///   - answeredNatively: Learns each native answer sent (annotated), to keep it.
    ///   - responseID: The gateway's id for a Responses answer, replacing the upstream's.
    ///   - previousResponseID: The client's `previous_response_id`, echoed in a native Responses
    ///     answer (its upstream never saw it).
    func complete<Body: ChatPathRequest>(
        _ admitted: AdmittedRequest<Body>,
        native: NativeRequest,
        translatable: Bool,
        responseID: String? = nil,
        previousResponseID: String? = nil,
        endpoint: String,
        envelope: ErrorEnvelope,
        renderTranslated: @escaping @Sendable (CostAnnotation.PricedCompletion) async throws(GatewayError) -> ByteBuffer,
        answeredNatively: @escaping @Sendable (ByteBuffer) async -> Void = { _ in }
    ) async -> Response {
        let plan = admitted.plan
        let accounting = chat.accounting
        let render: @Sendable (FrontDoorAnswer) async throws(GatewayError) -> ByteBuffer = { answer throws(GatewayError) in
            guard answer.isNative else { return try await renderTranslated(answer.priced) }
            await answeredNatively(answer.priced.body)
            return answer.priced.body
        }
        return await admitted.respond(endpoint: endpoint, accounting: accounting, envelope: envelope, priced: \.priced, render: render) {
            upstreamTime in
            await chat.executor.completeFrontDoor(
                native: native,
                chat: translatable ? admitted.request.chat : nil,
                plan: plan,
                totalDeadline: admitted.totalDeadline,
                logger: admitted.logger,
                upstreamTime: &upstreamTime,
                acceptNative: { body, target in
                    FrontDoorAnswer(
                        priced: Self.priced(
                            body,
                            api: native.api,
                            from: target,
                            plan: plan,
                            accounting: accounting,
                            responseID: responseID,
                            previousResponseID: previousResponseID
                        ),
                        isNative: true
                    )
                },
                acceptTranslated: { answer, target in
                    FrontDoorAnswer(priced: try accounting.priced(answer.body, from: target, plan: plan), isNative: false)
                }
            )
        }
    }

    /// Answers `admitted` with a stream in the client's API: the upstream's own events from a
    /// target that speaks it, else the chat path's chunks framed by `framing`.
    ///
    /// - Parameters:
    ///   - completedNatively: Learns the final `response` object of a native Responses stream that
    ///     completed (annotated), to keep it.
    ///   - responseID: The gateway's id for a Responses answer, replacing the upstream's.
    ///   - previousResponseID: The client's `previous_response_id`, echoed in a native Responses
    ///     answer (its upstream never saw it).
    func stream<Body: ChatPathRequest, Framing: StreamFraming>(
        _ admitted: AdmittedRequest<Body>,
        native: NativeRequest,
        translatable: Bool,
        responseID: String? = nil,
        previousResponseID: String? = nil,
        framing: Framing,
        endpoint: String,
        envelope: ErrorEnvelope,
        completedNatively: @escaping @Sendable (ByteBuffer) async -> Void = { _ in }
    ) async -> Response {
        var upstreamTime = Duration.zero
        let chat = self.chat
        let result = await ClientDisconnectHandler.cancellingOnDisconnect(of: admitted.connectionID) {
            await chat.executor.streamFrontDoor(
                native: native,
                chat: translatable ? admitted.request.chat : nil,
                plan: admitted.plan,
                totalDeadline: admitted.totalDeadline,
                logger: admitted.logger,
                bounds: chat.streamBounds,
                continuationStyle: chat.continuationStyle,
                upstreamTime: &upstreamTime
            )
        }
        switch result {
        case .failure(let error, let target, let attempts):
            return admitted.failure(
                error,
                target: target,
                attempts: attempts,
                endpoint: endpoint,
                accounting: chat.accounting,
                envelope: envelope
            )
        case .success(let stream, let target, let attempts):
            let answer = StreamedAnswer(admitted, endpoint: endpoint, target: target, attempts: attempts, upstreamTime: upstreamTime)
            switch stream {
            case .translated(let relay):
                return chat.streamResponse(
                    relay,
                    answer: answer,
                    plan: admitted.plan,
                    connectionID: admitted.connectionID,
                    framing: framing
                )
            case .native(let relay):
                let response = NativeStreamResponse(
                    relay: relay,
                    api: native.api,
                    answer: answer,
                    plan: admitted.plan,
                    accounting: chat.accounting,
                    executor: chat.executor,
                    responseID: responseID,
                    previousResponseID: previousResponseID,
                    completed: completedNatively
                )
                return response.response(connectionID: admitted.connectionID)
            }
        }
    }

    /// A native answer priced from its own usage (estimated from its text when it reported none),
    /// `model` renamed to the target's name and `usage.cost_usd` added.
    static func priced(
        _ body: ByteBuffer,
        api: NativeAPI,
        from target: RouteTarget,
        plan: RoutePlan,
        accounting: RequestAccounting,
        responseID: String? = nil,
        previousResponseID: String? = nil
    ) -> CostAnnotation.PricedCompletion {
        let (annotated, reported) = NativeAnswer.pricing(
            body,
            api: api,
            modelName: target.name,
            responseID: responseID,
            previousResponseID: previousResponseID
        ) { usage in accounting.cost(of: usage, on: target).map(CostAnnotation.number) }
        let usage =
            reported
            ?? TokenUsage(
                promptTokens: plan.promptTokens,
                completionTokens: NativeStreamResponse.estimatedTokens(characters: NativeAnswer.outputText(of: body, api: api)),
                isEstimated: true
            )
        let cost = accounting.cost(of: usage, on: target)
        return CostAnnotation.PricedCompletion(body: annotated, usage: usage, costUSD: cost)
    }
}
