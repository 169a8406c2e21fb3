import Hummingbird
import Logging
import NIOCore

/// `POST /v1/chat/completions`: validates, resolves the model, walks the plan and relays the answer.
struct ChatCompletionsHandler: Sendable {
    let planning: RequestPlanning
    let executor: FailoverExecutor
    let maxRequestBytes: Int
    /// The most a streamed answer may buffer for a slow client (`server.max_response_bytes`).
    let maxResponseBytes: Int

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var request = request
        let body = try await RequestBodyReader.collect(&request, limit: maxRequestBytes)
        let chat = try ChatCompletionRequest.parse(body)
        let plan = try planning.plan(chat, headers: request.headers)
        let totalDeadline = ContinuousClock.now.advanced(by: plan.timeouts.total)
        if chat.isStreaming {
            return await stream(chat, plan: plan, totalDeadline: totalDeadline, context: context)
        }
        return await complete(chat, plan: plan, totalDeadline: totalDeadline, context: context)
    }

    private func complete(
        _ chat: ChatCompletionRequest,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        context: GatewayRequestContext
    ) async -> Response {
        let logger = context.logger
        let tracker = planning.planner.tracker
        // Each attempt's answer, body included, must arrive by its deadline; the upstream clients
        // enforce it. The client going away interrupts the call.
        let firstByte = plan.timeouts.firstByte
        let result = await ClientDisconnectHandler.cancellingOnDisconnect(of: context.connectionID) {
            await executor.run(plan, totalDeadline: totalDeadline) { target, provider in
                let call = ChatCompletionCall(
                    request: chat,
                    upstreamModel: target.upstreamModel,
                    responseDeadline: Self.attemptDeadline(for: target, in: plan, firstByte: firstByte, totalDeadline: totalDeadline)
                        .nioDeadline,
                    logger: logger
                )
                let answer = try await provider.complete(call)
                guard let rewritten = Self.rewriteModelReadingUsage(of: answer.body, to: target.name) else {
                    throw ProviderError(kind: .protocolViolation, message: "the upstream's answer is not a JSON object")
                }
                if let tokens = rewritten.completionTokens {
                    tracker.recordCompletionTokens(tokens, for: target.statisticsKey)
                }
                return rewritten.body
            }
        }
        switch result {
        case .success(let body, let target, let attempts):
            var headers = RoutingHeaders.fields(plan: plan, target: target, attempts: attempts)
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        case .failure(let error, let target, let attempts):
            log(error, logger: logger)
            return error.response(headers: RoutingHeaders.fields(plan: plan, target: target, attempts: attempts))
        }
    }

    private func stream(
        _ chat: ChatCompletionRequest,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        context: GatewayRequestContext
    ) async -> Response {
        let logger = context.logger
        let connectionID = context.connectionID
        let result = await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) {
            await attemptStream(chat, plan: plan, totalDeadline: totalDeadline, logger: logger)
        }
        switch result {
        case .failure(let error, let target, let attempts):
            log(error, logger: logger)
            return error.response(headers: RoutingHeaders.fields(plan: plan, target: target, attempts: attempts))
        case .success(let relay, let target, let attempts):
            var headers = RoutingHeaders.fields(plan: plan, target: target, attempts: attempts)
            headers[.contentType] = "text/event-stream; charset=utf-8"
            headers[.cacheControl] = "no-cache"
            // The stream stays in flight to its target until the relay ends.
            let lease = planning.planner.tracker.lease(target.statisticsKey)
            let body = ResponseBody { writer in
                defer {
                    relay.cancel()
                    lease.end()
                }
                try await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) {
                    try await Self.relay(relay, to: &writer, logger: logger, targetName: target.name)
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: headers, body: body)
        }
    }

    /// Walks the plan until one target's stream commits.
    private func attemptStream(
        _ chat: ChatCompletionRequest,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger
    ) async -> ExecutionResult<StreamRelay> {
        let timeouts = plan.timeouts
        return await executor.run(plan, totalDeadline: totalDeadline, measurement: .firstToken) { target, provider in
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
                targetName: target.name,
                limits: limits,
                expectedChoices: chat.choiceCount,
                maximumBufferedBytes: maxResponseBytes
            )
        }
    }

    /// Writes the committed chunks, then every further chunk as it arrives, then `[DONE]`, or an
    /// in-band error event when the upstream failed after commit.
    private static func relay(
        _ relay: StreamRelay,
        to writer: inout any ResponseBodyWriter,
        logger: Logger,
        targetName: String
    ) async throws {
        var frame = ByteBuffer()
        for chunk in relay.committedChunks { appendEvent(chunk, to: &frame) }
        try await writer.write(frame)
        do {
            for try await chunk in relay.remaining {
                frame.clear()
                appendEvent(chunk, to: &frame)
                try await writer.write(frame)
                relay.delivered(chunk)
            }
            guard !Task.isCancelled else { return }
            if relay.malformedChunkCount > 0 {
                logger.warning("skipped malformed chunks", metadata: ["target": "\(targetName)", "count": "\(relay.malformedChunkCount)"])
            }
            frame.clear()
            frame.writeStaticString("data: [DONE]\n\n")
            try await writer.write(frame)
        } catch let failure as ProviderError where failure.kind != .cancelled {
            logger.warning("stream failed after commit", metadata: ["target": "\(targetName)", "kind": "\(failure.kind.rawValue)"])
            let error = GatewayError(
                status: .badGateway,
                message: "The answer from \(targetName) was interrupted: \(failure.message). The response is incomplete.",
                type: "upstream_error",
                code: "stream_interrupted"
            )
            frame.clear()
            frame.writeStaticString("data: ")
            error.writeJSON(into: &frame)
            frame.writeStaticString("\n\n")
            try await writer.write(frame)
        }
    }

    private static func appendEvent(_ chunk: ByteBuffer, to frame: inout ByteBuffer) {
        frame.writeStaticString("data: ")
        frame.writeImmutableBuffer(chunk)
        frame.writeStaticString("\n\n")
    }

    /// When a non-streaming attempt at `target` must have its whole answer.
    ///
    /// Its head only comes with the whole answer, so a silent upstream and a long generation look
    /// alike until then. An attempt may use its share of what is left of the total budget, the
    /// remaining time divided by the targets not yet tried (itself included), and at least
    /// `first_byte`; the last target may use all of it. A silent target thus leaves time for the
    /// next one, and the whole call stays inside `total`.
    static func attemptDeadline(
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

    /// The answer with its `model` set to `name`; nil when it is not a JSON object.
    static func rewriteModel(of body: ByteBuffer, to name: String) -> ByteBuffer? {
        rewriteModelReadingUsage(of: body, to: name)?.body
    }

    /// The answer with its `model` set to `name`, and its `usage.completion_tokens`; nil when it is
    /// not a JSON object.
    static func rewriteModelReadingUsage(of body: ByteBuffer, to name: String) -> (body: ByteBuffer, completionTokens: Int?)? {
        body.withUnsafeReadableBytes { bytes -> (body: ByteBuffer, completionTokens: Int?)? in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes) else { return nil }
            var completionTokens: Int?
            if let usage = members.last(where: { $0.key == "usage" && $0.kind == .object }),
                let fields = try? JSONScanner.members(ofObjectAt: usage.value, in: bytes),
                let tokens = fields.last(where: { $0.key == "completion_tokens" && $0.kind == .number })
            {
                completionTokens = JSONScanner.integer(at: tokens.value, in: bytes)
            }
            let rewritten = JSONObjectRewriter.rewrite(
                body,
                members: members,
                replacing: [(key: "model", value: JSONWriter.encodedString(name))]
            )
            return (rewritten, completionTokens)
        }
    }

    private func log(_ error: GatewayError, logger: Logger) {
        logger.info("request failed", metadata: ["status": "\(error.status.code)", "code": "\(error.code ?? "-")"])
    }
}
