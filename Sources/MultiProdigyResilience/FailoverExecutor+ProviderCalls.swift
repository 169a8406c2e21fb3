import Logging
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyRouting
import NIOCore

/// The calls a request makes: the executor builds each attempt's call, with its deadline, and asks
/// the provider itself. What the caller adds (pricing an answer) comes in as a value transform
/// that may refuse an answer, which then counts as a failed attempt.
extension FailoverExecutor {
    /// Answers a non-streaming chat completion from the first target of `plan` that can.
    ///
    /// A target whose model is `non_streaming: assembled` (the default) is asked for a stream, under
    /// the streaming limits, and its chunks are assembled into the answer
    /// (``assembledCompletion(_:at:provider:timeouts:totalDeadline:logger:)``). A `direct` target
    /// is asked for the whole answer, which, body included, must arrive by its
    /// ``attemptDeadline(for:in:firstByte:totalDeadline:now:)``; the upstream clients enforce it. The completion tokens an accepted answer's upstream reported
    /// feed the planner's estimate of the route's answer length.
    ///
    /// - Parameters:
    ///   - chat: The client's request.
    ///   - plan: The targets, in order.
    ///   - totalDeadline: When the whole call must be over.
    ///   - logger: The request's logger.
    ///   - upstreamTime: Gains the time spent in attempts and waiting between them.
    ///   - accept: Turns one target's answer into the caller's; throwing a ``ProviderError``
    ///     refuses it, and the next attempt follows.
    public func complete<Answer: TokenCountedAnswer>(
        _ chat: ChatCompletionRequest,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger,
        upstreamTime: inout Duration,
        accept: (ChatCompletionResult, RouteTarget) throws -> Answer
    ) async -> ExecutionResult<Answer> {
        let streamingChat = Self.streamingForm(of: chat, in: plan)
        return await run(plan, totalDeadline: totalDeadline, upstreamTime: &upstreamTime) { target, provider in
            let completion = try await chatAnswer(
                chat,
                streaming: streamingChat,
                at: target,
                provider: provider,
                plan: plan,
                totalDeadline: totalDeadline,
                logger: logger
            )
            let answer = try accept(completion, target)
            if !answer.usage.isEstimated {
                recordAnswerLength(answer.usage.completionTokens, by: target, in: plan, choices: chat.choiceCount)
            }
            return answer
        }
    }

    /// One non-streaming chat attempt at `target`: assembled from a stream when its model is
    /// `non_streaming: assembled` and `streamingChat` (the request asking for a stream) could be
    /// built, else (or when the upstream refuses to stream it) the whole answer asked as the
    /// client asked it, which, body included, must arrive by the attempt's
    /// ``attemptDeadline(for:in:firstByte:totalDeadline:now:)``.
    func chatAnswer(
        _ chat: ChatCompletionRequest,
        streaming streamingChat: ChatCompletionRequest?,
        at target: RouteTarget,
        provider: any LLMProvider,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger
    ) async throws -> ChatCompletionResult {
        func direct() async throws -> ChatCompletionResult {
            let deadline = Self.attemptDeadline(for: target, in: plan, firstByte: plan.timeouts.firstByte, totalDeadline: totalDeadline)
            let call = ChatCompletionCall(
                request: chat,
                upstreamModel: target.upstreamModel,
                responseDeadline: deadline.nioDeadline,
                logger: logger
            )
            return try await provider.complete(call)
        }
        guard let streamingChat, plan.entry(for: target)?.nonStreaming ?? .assembled == .assembled else { return try await direct() }
        do {
            return try await assembledCompletion(
                streamingChat,
                at: target,
                provider: provider,
                timeouts: plan.timeouts,
                totalDeadline: totalDeadline,
                logger: logger
            )
        } catch let failure as ProviderError where Self.refusesToStream(failure) {
            // Some requests may not be streamed (a model an organisation must be verified to
            // stream, say): this one is then asked as the client asked it.
            logger.info("the upstream refused to stream; asking for the whole answer", metadata: ["target": "\(target.name)"])
            return try await direct()
        }
    }

    /// The request asking for a stream that `plan`'s `non_streaming: assembled` targets get for a
    /// non-streaming `chat`, built once per request; nil when no target is assembled.
    static func streamingForm(of chat: ChatCompletionRequest, in plan: RoutePlan) -> ChatCompletionRequest? {
        plan.entries.contains { $0.nonStreaming == .assembled } ? try? chat.askingForStream() : nil
    }

    /// One non-streaming attempt at `target` made as a stream (`non_streaming: assembled`): the
    /// upstream's chunks, guarded by the same first-byte, first-token and stall limits as a
    /// streaming request's, assembled into one `chat.completion` (``ChatCompletionAssembler``).
    ///
    /// A silent target thus fails within `first_byte` or `first_token`, and a long answer that keeps
    /// coming runs until `total`. An answer cut before its end fails the attempt: the client has
    /// seen nothing, so the next attempt starts over.
    func assembledCompletion(
        _ streamingChat: ChatCompletionRequest,
        at target: RouteTarget,
        provider: any LLMProvider,
        timeouts: TimeoutSettings,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger
    ) async throws -> ChatCompletionResult {
        let relay = try await startChatStream(
            streamingChat,
            at: target,
            provider: provider,
            timeouts: timeouts,
            totalDeadline: totalDeadline,
            logger: logger
        )
        var assembler = ChatCompletionAssembler()
        func add(_ chunk: ByteBuffer) throws {
            try assembler.add(chunk)
            // The answer's own bytes (text, arguments, log probabilities), not the chunks' envelopes.
            guard assembler.answerBytes <= maximumAnswerBytes else {
                throw ProviderError(
                    kind: .protocolViolation,
                    message: "the upstream's answer is larger than \(maximumAnswerBytes) bytes (server.max_response_bytes)"
                )
            }
        }
        do {
            for chunk in relay.committedChunks { try add(chunk) }
            while let chunk = try await relay.next() { try add(chunk) }
            if let usage = relay.reportedUsage?.chunk { try add(usage) }
        } catch {
            relay.cancel()
            guard let syntax = error as? JSONSyntaxError else { throw error }
            throw ProviderError(kind: .protocolViolation, message: "a chunk of the upstream's stream is not valid JSON: \(syntax.reason)")
        }
        reportSkippedChunks(of: relay, from: target, logger: logger)
        return ChatCompletionResult(body: assembler.completion().buffer)
    }

    /// Counts and logs the malformed chunks a complete stream from `target` skipped, if any.
    func reportSkippedChunks(of relay: StreamRelay, from target: RouteTarget, logger: Logger) {
        let malformed = relay.malformedChunkCount
        guard malformed > 0 else { return }
        observer?.skippedMalformedChunks(from: target, count: malformed)
        logger.warning("skipped malformed chunks", metadata: ["target": "\(target.name)", "count": "\(malformed)"])
    }

    /// Whether `failure` is an upstream's 400 refusing the request because it asked for a stream,
    /// which the same request without streaming may not get: its error's `param` is `stream` or
    /// `stream_options` (OpenAI's), or its message has the word "stream" or "streaming" (not
    /// "upstream"). A client's own mistake that happens to say so costs one more call, refused
    /// again.
    static func refusesToStream(_ failure: ProviderError) -> Bool {
        guard failure.upstreamStatus == 400 else { return false }
        if let param = failure.upstreamError?.param, param == "stream" || param == "stream_options" { return true }
        let text = (failure.upstreamError?.message ?? failure.message).lowercased()
        return text.split(whereSeparator: { !$0.isLetter }).contains { $0 == "stream" || $0 == "streaming" }
    }

    /// Embeds the inputs of `embeddings` on the first target of `plan` that can, in OpenAI's shape
    /// whatever the upstream's.
    ///
    /// An upstream's vectors are rendered as an OpenAI `list` named after the target, in the
    /// client's `encoding_format`; an upstream that returns a different number of vectors than inputs
    /// has failed the attempt.
    ///
    /// - Parameters:
    ///   - accept: Turns the OpenAI-shaped body from one target into the caller's answer; throwing a
    ///     ``ProviderError`` refuses it, and the next attempt follows.
    ///   - upstreamTime: Gains the time spent in attempts and waiting between them.
    public func embed<Answer: Sendable>(
        _ embeddings: EmbeddingsRequest,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger,
        upstreamTime: inout Duration,
        accept: (ByteBuffer, RouteTarget) throws -> Answer
    ) async -> ExecutionResult<Answer> {
        await run(plan, totalDeadline: totalDeadline, operation: "embeddings", upstreamTime: &upstreamTime) { target, provider in
            let call = EmbeddingsCall(
                request: embeddings,
                upstreamModel: target.upstreamModel,
                responseDeadline: totalDeadline.nioDeadline,
                logger: logger
            )
            switch try await provider.embed(call) {
            case .openAIBody(let body):
                return try accept(body, target)
            case .vectors(let vectors, let promptTokens):
                guard vectors.count == embeddings.inputs.count else {
                    throw ProviderError(
                        kind: .protocolViolation,
                        message: "the upstream returned \(vectors.count) vectors for \(embeddings.inputs.count) inputs"
                    )
                }
                let body = EmbeddingsResponseRenderer.render(
                    vectors,
                    model: target.name,
                    promptTokens: promptTokens,
                    format: embeddings.encodingFormat
                )
                return try accept(body, target)
            }
        }
    }

    /// Starts a streamed chat answer on the first target of `plan` whose stream commits, to be
    /// continued on a later target should it be cut (see ``ContinuingStreamRelay``).
    ///
    /// The committed target counts as in flight until the answer ends (``ContinuingStreamRelay/cancel()``).
    ///
    /// - Parameters:
    ///   - bounds: What the answer may keep to continue it.
    ///   - continuationStyle: How a target continues another's answer; nil when it cannot.
    ///   - upstreamTime: Gains the time spent until the commit.
    public func stream(
        _ chat: ChatCompletionRequest,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger,
        bounds: ContinuingStreamRelay.Bounds,
        continuationStyle: @escaping @Sendable (RouteTarget) -> ContinuationStyle?,
        upstreamTime: inout Duration
    ) async -> ExecutionResult<ContinuingStreamRelay> {
        let result = await commitStream(
            chat,
            plan: plan,
            totalDeadline: totalDeadline,
            logger: logger,
            upstreamTime: &upstreamTime
        )
        switch result {
        case .success(let relay, let target, let attempts):
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
            return .success(answer, target: target, attempts: attempts)
        case .failure(let error, let lastTarget, let attempts):
            return .failure(error, lastTarget: lastTarget, attempts: attempts)
        }
    }

    /// The committed chat stream `relay` from `target`, continued on a later target of `plan`
    /// should it be cut; the target counts as in flight until the answer ends.
    func continuing(
        _ relay: StreamRelay,
        at target: RouteTarget,
        chat: ChatCompletionRequest,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger,
        bounds: ContinuingStreamRelay.Bounds,
        continuationStyle: @escaping @Sendable (RouteTarget) -> ContinuationStyle?
    ) -> ContinuingStreamRelay {
        ContinuingStreamRelay(
            first: relay,
            target: target,
            lease: tracker.lease(target.statisticsKey),
            context: ContinuingStreamRelay.Context(
                chat: chat,
                plan: plan,
                totalDeadline: totalDeadline,
                logger: logger,
                bounds: bounds,
                continuationStyle: continuationStyle,
                executor: self
            )
        )
    }

    /// Walks `plan` until one target's stream commits.
    ///
    /// - Parameter reportedName: The `model` every chunk names; nil for each target's own name. A
    ///   continuation keeps the name of the target that started the answer.
    func commitStream(
        _ chat: ChatCompletionRequest,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger,
        reportedName: String? = nil,
        upstreamTime: inout Duration
    ) async -> ExecutionResult<StreamRelay> {
        await run(plan, totalDeadline: totalDeadline, measurement: .firstToken, upstreamTime: &upstreamTime) { target, provider in
            try await startChatStream(
                chat,
                at: target,
                provider: provider,
                timeouts: plan.timeouts,
                totalDeadline: totalDeadline,
                logger: logger,
                reportedName: reportedName
            )
        }
    }

    /// One streaming chat attempt at `target`: the upstream's stream, relayed once it commits.
    func startChatStream(
        _ chat: ChatCompletionRequest,
        at target: RouteTarget,
        provider: any LLMProvider,
        timeouts: TimeoutSettings,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger,
        reportedName: String? = nil
    ) async throws -> StreamRelay {
        let firstByteDeadline = min(ContinuousClock.now.advanced(by: timeouts.firstByte), totalDeadline)
        let call = ChatCompletionCall(
            request: chat,
            upstreamModel: target.upstreamModel,
            responseDeadline: firstByteDeadline.nioDeadline,
            logger: logger
        )
        let upstream = try await provider.stream(call)
        let limits = StreamGuardStateMachine.Limits(
            firstToken: timeouts.firstToken,
            stall: timeouts.stall,
            totalDeadline: totalDeadline
        )
        return try await StreamRelay.start(
            upstream,
            targetName: reportedName ?? target.name,
            limits: limits,
            expectedChoices: chat.choiceCount,
            removesNullUsage: !chat.includeUsage
        )
    }

    /// When a non-streaming attempt at `target` must have its whole answer.
    ///
    /// Its head only comes with the whole answer, so a silent upstream and a long generation look
    /// alike until then. An attempt may use its share of what is left of the total budget, the
    /// remaining time divided by the targets not yet tried (itself included), and at least
    /// `first_byte`; the last target may use all of it. A silent target thus leaves time for the
    /// next one, and the whole call stays inside `total`.
    public static func attemptDeadline(
        for target: RouteTarget,
        in plan: RoutePlan,
        firstByte: Duration,
        totalDeadline: ContinuousClock.Instant,
        now: ContinuousClock.Instant = .now
    ) -> ContinuousClock.Instant {
        let position = plan.entries.firstIndex { $0.target == target } ?? 0
        let targetsLeft = max(1, plan.entries.count - position)
        let remaining = totalDeadline - now
        guard targetsLeft > 1, remaining > .zero else { return totalDeadline }
        let share = max(remaining / targetsLeft, firstByte)
        return min(now + share, totalDeadline)
    }
}

extension FailoverExecutor {
    /// Teaches the planner how long the answers to `plan`'s route run: `completionTokens` written by
    /// `target` for `choices` choices, brought back to one choice of a target without an
    /// `output_factor` (the planner scales it again for each target).
    public func recordAnswerLength(_ completionTokens: Int, by target: RouteTarget, in plan: RoutePlan, choices: Int) {
        let factor = plan.entry(for: target)?.outputFactor ?? 1
        let perChoice = Double(completionTokens) / Double(max(1, choices)) / max(factor, 0.01)
        tracker.recordAnswerLength(Int(perChoice.rounded()), route: plan.requestedName)
    }
}
