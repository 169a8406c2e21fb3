import Hummingbird
import Logging
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import MultiProdigyCore
import NIOCore

/// `POST /v1/chat/completions`: validates, resolves the model, walks the plan and relays the answer.
///
/// A class: the closures of each request capture it, and a reference is one retain where a copy of
/// its planner, executor and accounting would be dozens.
final class ChatCompletionsHandler: Sendable {
    let planning: RequestPlanning
    let executor: FailoverExecutor
    let maxRequestBytes: Int
    /// The most a streamed answer may buffer for a slow client (`server.max_response_bytes`).
    let maxResponseBytes: Int
    /// The most text of a streamed answer kept to continue it after a cut
    /// (`server.max_stream_transcript_bytes`).
    let maxStreamTranscriptBytes: Int
    /// Prices answers and records finished requests.
    let accounting: RequestAccounting

    init(
        planning: RequestPlanning,
        executor: FailoverExecutor,
        maxRequestBytes: Int,
        maxResponseBytes: Int,
        maxStreamTranscriptBytes: Int,
        accounting: RequestAccounting
    ) {
        self.planning = planning
        self.executor = executor
        self.maxRequestBytes = maxRequestBytes
        self.maxResponseBytes = maxResponseBytes
        self.maxStreamTranscriptBytes = maxStreamTranscriptBytes
        self.accounting = accounting
    }

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var request = request
        let body = try await RequestBodyReader.collect(&request, limit: maxRequestBytes)
        let chat = try ChatCompletionRequest.parse(body)
        let caller = context.caller
        if let refusal = caller.refusal(forModel: chat.model) { throw refusal }
        var plan = try planning.plan(chat, headers: request.headers, caller: caller)
        let meter = try accounting.meter(for: context, plan: &plan)
        let totalDeadline = ContinuousClock.now.advanced(by: plan.timeouts.total)
        if chat.isStreaming {
            return await stream(chat, plan: plan, totalDeadline: totalDeadline, context: context, meter: meter)
        }
        return await complete(chat, plan: plan, totalDeadline: totalDeadline, context: context, meter: meter)
    }

    static let endpoint = "chat"

    private func complete(
        _ chat: ChatCompletionRequest,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        context: GatewayRequestContext,
        meter: RequestMeter
    ) async -> Response {
        let logger = context.logger
        let tracker = planning.planner.tracker
        let accounting = self.accounting
        // Each attempt's answer, body included, must arrive by its deadline; the upstream clients
        // enforce it. The client going away interrupts the call.
        let firstByte = plan.timeouts.firstByte
        var upstreamTime = Duration.zero
        let result = await ClientDisconnectHandler.cancellingOnDisconnect(of: context.connectionID) {
            await executor.run(plan, totalDeadline: totalDeadline, upstreamTime: &upstreamTime) { target, provider in
                let call = ChatCompletionCall(
                    request: chat,
                    upstreamModel: target.upstreamModel,
                    responseDeadline: Self.attemptDeadline(for: target, in: plan, firstByte: firstByte, totalDeadline: totalDeadline)
                        .nioDeadline,
                    logger: logger
                )
                let priced = try accounting.priced(try await provider.complete(call).body, from: target, plan: plan)
                if !priced.usage.isEstimated {
                    tracker.recordCompletionTokens(priced.usage.completionTokens, for: target.statisticsKey)
                }
                return priced
            }
        }
        switch result {
        case .success(let priced, let target, let attempts):
            let overhead = (.now - meter.receivedAt) - upstreamTime
            var headers = RoutingHeaders.fields(plan: plan, target: target, attempts: attempts)
            headers[.contentType] = "application/json"
            RoutingHeaders.addAccounting(to: &headers, costUSD: priced.costUSD, overhead: overhead)
            accounting.finish(
                meter.answered(endpoint: Self.endpoint, plan: plan, target: target, attempts: attempts, priced: priced, overhead: overhead),
                settling: meter.reservation
            )
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: priced.body))
        case .failure(let error, let target, let attempts):
            return failure(error, plan: plan, target: target, attempts: attempts, meter: meter, logger: logger)
        }
    }

    private func stream(
        _ chat: ChatCompletionRequest,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        context: GatewayRequestContext,
        meter: RequestMeter
    ) async -> Response {
        let logger = context.logger
        let connectionID = context.connectionID
        var upstreamTime = Duration.zero
        let result = await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) {
            await attemptStream(chat, plan: plan, totalDeadline: totalDeadline, logger: logger, upstreamTime: &upstreamTime)
        }
        switch result {
        case .failure(let error, let target, let attempts):
            return failure(error, plan: plan, target: target, attempts: attempts, meter: meter, logger: logger)
        case .success(let relay, let target, let attempts):
            let timeToFirstToken = ContinuousClock.now - meter.receivedAt
            let overhead = timeToFirstToken - upstreamTime
            var headers = RoutingHeaders.fields(plan: plan, target: target, attempts: attempts)
            headers[.contentType] = "text/event-stream; charset=utf-8"
            headers[.cacheControl] = "no-cache"
            headers[GatewayHeader.overheadMilliseconds] = RoutingHeaders.milliseconds(overhead)
            // The stream stays in flight to its target until the relay ends.
            let lease = planning.planner.tracker.lease(target.statisticsKey)
            let answer = StreamedAnswer(
                chat: chat,
                plan: plan,
                target: target,
                totalDeadline: totalDeadline,
                logger: logger,
                meter: meter,
                attempts: attempts,
                timeToFirstToken: timeToFirstToken,
                overhead: overhead
            )
            // Should the body never run (the client left before the head went out), the request
            // is still accounted for, and its key's reservation given back.
            let abandonment = AbandonmentGuard { [accounting] in
                relay.cancel()
                lease.end()
                accounting.finish(
                    meter.outcome(
                        endpoint: Self.endpoint,
                        route: plan.requestedName,
                        target: target,
                        status: Int(HTTPResponseStatusCompat.clientClosedRequest.code),
                        attempts: attempts,
                        timeToFirstToken: timeToFirstToken,
                        overhead: overhead
                    ),
                    settling: meter.reservation
                )
            }
            let body = ResponseBody { writer in
                abandonment.disarm()
                var tally = StreamTally(answer: answer, maximumTranscriptBytes: self.maxStreamTranscriptBytes)
                defer {
                    relay.cancel()
                    lease.end()
                    // A client that went away still used what it was sent.
                    if !tally.isFinished { self.finish(&tally, status: Int(HTTPResponseStatusCompat.clientClosedRequest.code)) }
                }
                try await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) {
                    try await self.relay(relay, of: answer, tally: &tally, to: &writer)
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: headers, body: body)
        }
    }

    /// Walks `plan` until one target's stream commits.
    ///
    /// - Parameter reportedName: The `model` every chunk names; nil for each target's own name. A
    ///   continuation keeps the name of the target that started the answer.
    private func attemptStream(
        _ chat: ChatCompletionRequest,
        plan: RoutePlan,
        totalDeadline: ContinuousClock.Instant,
        logger: Logger,
        reportedName: String? = nil,
        upstreamTime: inout Duration
    ) async -> ExecutionResult<StreamRelay> {
        let timeouts = plan.timeouts
        let removesNullUsage = !chat.includeUsage
        return await executor.run(plan, totalDeadline: totalDeadline, measurement: .firstToken, upstreamTime: &upstreamTime) {
            target,
            provider in
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
                maximumBufferedBytes: maxResponseBytes,
                removesNullUsage: removesNullUsage
            )
        }
    }

    /// Writes the committed chunks, then every further chunk as it arrives, then the usage chunk
    /// (with the cost) if the client asked for it, then `[DONE]`.
    ///
    /// When the upstream fails after commit, the answer is continued on a later target of the plan
    /// that supports it (see ``continuation(of:after:tally:)``); when none can, an in-band
    /// error event ends the stream, and never `[DONE]`, so the client knows the answer is incomplete.
    /// The request is accounted for before the last event is written, so a client that has seen
    /// the end of its answer has its row in the usage ledger.
    private func relay(
        _ first: StreamRelay,
        of answer: StreamedAnswer,
        tally: inout StreamTally,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        let logger = answer.logger
        var current = first
        var currentTarget = answer.target
        var isContinuation = false
        // A continuation's relay is not covered by the caller's `defer`, which knows only the first.
        defer { if isContinuation { current.cancel() } }
        var frame = ByteBuffer()
        while true {
            do {
                tally.begin(current, on: currentTarget)
                try await forward(current, isContinuation: isContinuation, transcript: &tally.transcript, to: &writer)
                if let reported = tally.end(accounting: accounting) {
                    planning.planner.tracker.recordCompletionTokens(reported.completionTokens, for: currentTarget.statisticsKey)
                }
                guard !Task.isCancelled else { return }
                if current.malformedChunkCount > 0 {
                    accounting.metrics.recordUpstreamError(currentTarget, kind: "malformed_chunk", count: current.malformedChunkCount)
                    logger.warning(
                        "skipped malformed chunks",
                        metadata: ["target": "\(currentTarget.name)", "count": "\(current.malformedChunkCount)"]
                    )
                }
                frame.clear()
                if answer.chat.includeUsage {
                    if !isContinuation, let reported = current.reportedUsage {
                        let chunk = tally.costUSD.map { CostAnnotation.addingCost($0, toUsageChunk: reported.chunk) } ?? reported.chunk
                        Self.appendEvent(chunk, to: &frame)
                    } else if let usage = tally.usage {
                        // Every segment's tokens (a continued answer), or the gateway's estimate.
                        let chunk = CostAnnotation.usageChunk(
                            id: tally.transcript.id,
                            created: tally.transcript.created,
                            model: answer.target.name,
                            usage: usage,
                            costUSD: tally.costUSD
                        )
                        Self.appendEvent(chunk, to: &frame)
                    }
                }
                frame.writeStaticString("data: [DONE]\n\n")
                finish(&tally, status: 200)
                try await writer.write(frame)
                return
            } catch let unscrubbed as ProviderError where unscrubbed.kind != .cancelled {
                // An in-band error quoting the upstream's text never passed through the executor.
                let failure = executor.scrubber.scrub(unscrubbed)
                tally.end(accounting: accounting)
                accounting.metrics.attemptFailed(currentTarget, error: failure)
                logger.warning(
                    "stream failed after commit",
                    metadata: ["target": "\(currentTarget.name)", "kind": "\(failure.kind.rawValue)"]
                )
                var reason = "\(failure.message). The response is incomplete."
                if answer.chat.choiceCount == 1, tally.transcript.isContinuable, !Task.isCancelled {
                    if let (next, target) = await continuation(of: answer, after: currentTarget, tally: &tally) {
                        if isContinuation { current.cancel() }
                        accounting.metrics.failedOver(
                            route: answer.plan.requestedName,
                            from: currentTarget,
                            to: target,
                            reason: failure.kind
                        )
                        current = next
                        currentTarget = target
                        isContinuation = true
                        logger.info("continuing the answer", metadata: ["target": "\(target.name)"])
                        continue
                    }
                    reason = "\(failure.message). No later target could continue it; the response is incomplete."
                } else if answer.chat.choiceCount == 1, !tally.transcript.finished, tally.transcript.sentOtherThanText {
                    reason = "\(failure.message). Only text answers can be continued; the response is incomplete."
                } else if answer.chat.choiceCount == 1, !tally.transcript.finished, tally.transcript.isTruncated {
                    reason = Self.tooLongToContinue(failure.message, bound: maxStreamTranscriptBytes)
                }
                let error = GatewayError(
                    status: .badGateway,
                    message: "The answer from \(currentTarget.name) was interrupted: \(reason)",
                    type: "upstream_error",
                    code: "stream_interrupted"
                )
                frame.clear()
                frame.writeStaticString("data: ")
                error.writeJSON(into: &frame)
                frame.writeStaticString("\n\n")
                finish(&tally, status: Int(error.status.code))
                try await writer.write(frame)
                return
            }
        }
    }

    /// Why a cut answer longer than the transcript bound was not continued.
    static func tooLongToContinue(_ failure: String, bound: Int) -> String {
        "\(failure). The answer was longer than the gateway keeps to continue it on another target "
            + "(server.max_stream_transcript_bytes, \(ConfigValueParsing.byteSizeText(bound))), so it could not be continued; "
            + "the response is incomplete."
    }

    /// Records the streamed request's outcome, once.
    private func finish(_ tally: inout StreamTally, status: Int) {
        guard !tally.isFinished else { return }
        tally.isFinished = true
        tally.end(accounting: accounting)
        let answer = tally.answer
        var outcome = answer.meter.outcome(
            endpoint: Self.endpoint,
            route: answer.plan.requestedName,
            target: tally.lastTarget,
            status: status,
            attempts: answer.attempts + tally.continuationAttempts,
            usage: tally.usage,
            costUSD: tally.costUSD,
            timeToFirstToken: answer.timeToFirstToken,
            overhead: answer.overhead
        )
        outcome.segments = tally.segments
        accounting.finish(outcome, settling: answer.meter.reservation)
    }

    /// Writes `relay`'s chunks to the client, recording them in `transcript`.
    ///
    /// A continuation's chunks carry the original stream's `id` and `created`, and its announcement
    /// of the assistant role is dropped: the client already had one.
    private func forward(
        _ relay: StreamRelay,
        isContinuation: Bool,
        transcript: inout StreamTranscript,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        var frame = ByteBuffer()
        for chunk in relay.committedChunks {
            if isContinuation, StreamTranscript.isRoleAnnouncement(chunk) { continue }
            let sent = isContinuation ? transcript.stamping(chunk) : chunk
            transcript.record(sent)
            Self.appendEvent(sent, to: &frame)
        }
        try await writer.write(frame)
        for try await chunk in relay.remaining {
            if isContinuation, StreamTranscript.isRoleAnnouncement(chunk) {
                relay.delivered(chunk)
                continue
            }
            let sent = isContinuation ? transcript.stamping(chunk) : chunk
            transcript.record(sent)
            frame.clear()
            Self.appendEvent(sent, to: &frame)
            try await writer.write(frame)
            relay.delivered(chunk)
        }
    }

    /// Starts continuing `answer` on the first target after `failed` in the plan that supports it
    /// and whose stream commits; nil when none does.
    ///
    /// Each candidate is tried alone through the executor, so breakers, retries and the privacy
    /// check apply as for any attempt; one that fails before committing (a 4xx refusing the
    /// prefill, a timeout) moves on to the next. The total time budget is the request's.
    ///
    /// The partial answer comes from `tally`'s transcript; the attempts made are added to it.
    private func continuation(
        of answer: StreamedAnswer,
        after failed: RouteTarget,
        tally: inout StreamTally
    ) async -> (StreamRelay, RouteTarget)? {
        let plan = answer.plan
        guard let failedIndex = plan.entries.firstIndex(where: { $0.target == failed }) else { return nil }
        let resolver = planning.planner.resolver
        for entry in plan.entries[(failedIndex + 1)...] {
            guard !Task.isCancelled, ContinuousClock.now < answer.totalDeadline else { return nil }
            if plan.isPrivate, entry.locality != .local { continue }
            guard let style = resolver.continuationStyle(of: entry.target),
                let request = try? ContinuationRequest.make(continuing: answer.chat, partialAnswer: tally.transcript.text, style: style)
            else { continue }
            var single = plan
            single.entries = [entry]
            single.excluded = []
            var upstreamTime = Duration.zero
            let result = await attemptStream(
                request,
                plan: single,
                totalDeadline: answer.totalDeadline,
                logger: answer.logger,
                reportedName: answer.target.name,
                upstreamTime: &upstreamTime
            )
            switch result {
            case .success(let relay, let target, let attempts):
                tally.continuationAttempts += attempts
                return (relay, target)
            case .failure(let error, _, let attempts):
                tally.continuationAttempts += attempts
                answer.logger.info(
                    "continuation target failed",
                    metadata: ["target": "\(entry.target.name)", "status": "\(error.status.code)"]
                )
            }
        }
        return nil
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

    /// The response, and the accounting, of a request no target answered.
    private func failure(
        _ error: GatewayError,
        plan: RoutePlan,
        target: RouteTarget?,
        attempts: Int,
        meter: RequestMeter,
        logger: Logger
    ) -> Response {
        log(error, logger: logger)
        accounting.finish(
            meter.failed(endpoint: Self.endpoint, plan: plan, error: error, target: target, attempts: attempts),
            settling: meter.reservation
        )
        return error.response(headers: RoutingHeaders.fields(plan: plan, target: target, attempts: attempts))
    }

    private func log(_ error: GatewayError, logger: Logger) {
        logger.info("request failed", metadata: ["status": "\(error.status.code)", "code": "\(error.code ?? "-")"])
    }
}
