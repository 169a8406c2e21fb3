import Logging
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyRouting
import NIOCore

/// The calls of the front-door APIs other than chat (Responses, Messages): each target that speaks
/// the API itself (``LLMProvider/nativeAPIs``) gets the client's request passed through; every
/// other target gets its chat translation. Retries, failover and breakers are the same walk as
/// chat's (``run(_:totalDeadline:measurement:upstreamTime:attempt:)``).
extension FailoverExecutor {
    /// Answers a non-streaming front-door request from the first target of `plan` that can.
    ///
    /// - Parameters:
    ///   - native: The client's request, for targets that speak its API.
    ///   - chat: Its chat translation, for the others; nil when it has none (a built-in or server
    ///     tool), and then a target that does not speak the API fails its attempt as unsupported.
    ///   - acceptNative: Turns a native answer into the caller's; throwing refuses it.
    ///   - acceptTranslated: Turns a chat answer into the caller's; throwing refuses it.
    public func completeFrontDoor<Answer: TokenCountedAnswer>(
        native: NativeRequest,
        chat: ChatCompletionRequest?,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger,
        upstreamTime: inout Duration,
        acceptNative: (ByteBuffer, RouteTarget) throws -> Answer,
        acceptTranslated: (ChatCompletionResult, RouteTarget) throws -> Answer
    ) async -> ExecutionResult<Answer> {
        let firstByte = plan.timeouts.firstByte
        // Built the first time a target needs the translation (most targets of a native API speak
        // it), then kept for the others.
        var streamingChat: ChatCompletionRequest?? = .none
        return await run(plan, totalDeadline: totalDeadline, upstreamTime: &upstreamTime) { target, provider in
            func translated() async throws -> Answer {
                guard let chat else { throw ProviderError.nativeAPIUnsupported(native.api) }
                if streamingChat == nil { streamingChat = .some(Self.streamingForm(of: chat, in: plan)) }
                let completion = try await chatAnswer(
                    chat,
                    streaming: streamingChat ?? nil,
                    at: target,
                    provider: provider,
                    plan: plan,
                    totalDeadline: totalDeadline,
                    logger: logger
                )
                return try acceptTranslated(completion, target)
            }
            let answer: Answer
            if provider.nativeAPIs.contains(native.api) {
                let deadline = Self.attemptDeadline(for: target, in: plan, firstByte: firstByte, totalDeadline: totalDeadline)
                let call = NativeCall(
                    request: native,
                    upstreamModel: target.upstreamModel,
                    responseDeadline: deadline.nioDeadline,
                    logger: logger
                )
                do {
                    answer = try acceptNative(try await provider.completeNative(call), target)
                } catch let error as ProviderError where error.kind == .unsupported && chat != nil {
                    // The upstream turned out not to serve the API (an older server's 404): the
                    // same target, through chat.
                    logger.notice(
                        "the target does not serve the API itself; asking it through chat",
                        metadata: ["target": "\(target.name)"]
                    )
                    answer = try await translated()
                }
            } else {
                answer = try await translated()
            }
            if !answer.usage.isEstimated {
                recordAnswerLength(answer.usage.completionTokens, by: target, in: plan, choices: 1)
            }
            return answer
        }
    }

    /// Starts a streamed front-door answer on the first target of `plan` whose stream commits.
    ///
    /// A translated stream is continued on a later target should it be cut (see
    /// ``ContinuingStreamRelay``); a native one is not. The committed target counts as in flight
    /// until the answer ends.
    ///
    /// - Parameters:
    ///   - native: The client's request, for targets that speak its API.
    ///   - chat: Its chat translation, for the others; nil when it has none.
    ///   - bounds: What the answer may keep to continue it.
    ///   - continuationStyle: How a target continues another's translated answer.
    public func streamFrontDoor(
        native: NativeRequest,
        chat: ChatCompletionRequest?,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger,
        bounds: ContinuingStreamRelay.Bounds,
        continuationStyle: @escaping @Sendable (RouteTarget) -> ContinuationStyle?,
        upstreamTime: inout Duration
    ) async -> ExecutionResult<FrontDoorStream> {
        let timeouts = plan.timeouts
        let result = await run(plan, totalDeadline: totalDeadline, measurement: .firstToken, upstreamTime: &upstreamTime) {
            target,
            provider -> FrontDoorAttempt in
            if provider.nativeAPIs.contains(native.api) {
                do {
                    let relay = try await startNativeStream(
                        native,
                        at: target,
                        provider: provider,
                        timeouts: timeouts,
                        totalDeadline: totalDeadline,
                        logger: logger
                    )
                    return .native(relay)
                } catch let error as ProviderError where error.kind == .unsupported && chat != nil {
                    // The upstream turned out not to serve the API (an older server's 404): the
                    // same target, through chat, below.
                    logger.notice(
                        "the target does not serve the API itself; asking it through chat",
                        metadata: ["target": "\(target.name)"]
                    )
                }
            }
            guard let chat else { throw ProviderError.nativeAPIUnsupported(native.api) }
            let relay = try await startChatStream(
                chat,
                at: target,
                provider: provider,
                timeouts: timeouts,
                totalDeadline: totalDeadline,
                logger: logger
            )
            return .translated(relay, chat)
        }
        switch result {
        case .success(.native(let relay), let target, let attempts):
            relay.hold(tracker.lease(target.statisticsKey))
            return .success(.native(relay), target: target, attempts: attempts)
        case .success(.translated(let relay, let chat), let target, let attempts):
            let answer = continuing(
                relay,
                at: target,
                chat: chat,
                plan: plan,
                totalDeadline: totalDeadline,
                logger: logger,
                bounds: bounds,
                continuationStyle: continuationStyle
            )
            return .success(.translated(answer), target: target, attempts: attempts)
        case .failure(let error, let lastTarget, let attempts):
            return .failure(error, lastTarget: lastTarget, attempts: attempts)
        }
    }
}

extension FailoverExecutor {
    /// One native streaming attempt at `target`: the upstream's events, relayed once they commit.
    fileprivate func startNativeStream(
        _ native: NativeRequest,
        at target: RouteTarget,
        provider: any LLMProvider,
        timeouts: TimeoutSettings,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger
    ) async throws -> NativeStreamRelay {
        let firstByteDeadline = min(ContinuousClock.now.advanced(by: timeouts.firstByte), totalDeadline)
        let call = NativeCall(
            request: native,
            upstreamModel: target.upstreamModel,
            responseDeadline: firstByteDeadline.nioDeadline,
            logger: logger
        )
        let upstream = try await provider.streamNative(call)
        let limits = StreamGuardStateMachine.Limits(firstToken: timeouts.firstToken, stall: timeouts.stall, totalDeadline: totalDeadline)
        return try await NativeStreamRelay.start(
            upstream,
            api: native.api,
            limits: limits
        )
    }
}

/// One committed attempt of ``FailoverExecutor/streamFrontDoor(native:chat:plan:totalDeadline:logger:bounds:continuationStyle:upstreamTime:)``,
/// before a translated one is wrapped for continuation.
private enum FrontDoorAttempt: Sendable {
    case native(NativeStreamRelay)
    case translated(StreamRelay, ChatCompletionRequest)
}
