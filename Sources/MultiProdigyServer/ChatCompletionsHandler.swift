import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// `POST /v1/chat/completions`: validates, resolves the model, has the executor walk the plan, and
/// writes the answer: a JSON body, or server-sent events.
///
/// Retries, failover and the continuation of a cut stream are the executor's
/// (``FailoverExecutor/complete(_:plan:totalDeadline:logger:upstreamTime:accept:)``,
/// ``ContinuingStreamRelay``); this handler turns HTTP into a call and the result back into HTTP,
/// and accounts for the request.
///
/// A class: the closures of each request capture it, and a reference is one retain where a copy of
/// its planner, executor and accounting would be dozens.
final class ChatCompletionsHandler: Sendable {
    let planning: RequestPlanning
    let executor: FailoverExecutor
    let maxRequestBytes: Int
    /// What a streamed answer may buffer for a slow client (`server.max_response_bytes`) and keep
    /// to continue it after a cut (`server.max_stream_transcript_bytes`).
    let streamBounds: ContinuingStreamRelay.Bounds
    /// How each target continues another's cut answer; nil when it cannot.
    let continuationStyle: @Sendable (RouteTarget) -> ContinuationStyle?
    /// Prices answers and records finished requests.
    let accounting: RequestAccounting

    init(
        planning: RequestPlanning,
        executor: FailoverExecutor,
        maxRequestBytes: Int,
        maxResponseBytes: Int,
        maxStreamTranscriptBytes: Int,
        continuationStyle: @escaping @Sendable (RouteTarget) -> ContinuationStyle?,
        accounting: RequestAccounting
    ) {
        self.planning = planning
        self.executor = executor
        self.maxRequestBytes = maxRequestBytes
        self.streamBounds = ContinuingStreamRelay.Bounds(
            maximumBufferedBytes: maxResponseBytes,
            maximumTranscriptBytes: maxStreamTranscriptBytes
        )
        self.continuationStyle = continuationStyle
        self.accounting = accounting
    }

    func handle(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let admitted = try await AdmittedRequest<ChatCompletionRequest>(
            request,
            context: context,
            planning: planning,
            accounting: accounting,
            maxRequestBytes: maxRequestBytes
        )
        if admitted.request.isStreaming { return await stream(admitted) }
        return await complete(admitted)
    }

    static let endpoint = "chat"

    private func complete(_ admitted: AdmittedRequest<ChatCompletionRequest>) async -> Response {
        let plan = admitted.plan
        let accounting = self.accounting
        return await admitted.respond(endpoint: Self.endpoint, accounting: accounting) { upstreamTime in
            await executor.complete(
                admitted.request,
                plan: plan,
                totalDeadline: admitted.totalDeadline,
                logger: admitted.logger,
                upstreamTime: &upstreamTime
            ) { answer, target in
                try accounting.priced(answer.body, from: target, plan: plan)
            }
        }
    }

    private func stream(_ admitted: AdmittedRequest<ChatCompletionRequest>) async -> Response {
        let connectionID = admitted.connectionID
        var upstreamTime = Duration.zero
        let result = await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) {
            await executor.stream(
                admitted.request,
                plan: admitted.plan,
                totalDeadline: admitted.totalDeadline,
                logger: admitted.logger,
                bounds: streamBounds,
                continuationStyle: continuationStyle,
                upstreamTime: &upstreamTime
            )
        }
        switch result {
        case .failure(let error, let target, let attempts):
            return admitted.failure(error, target: target, attempts: attempts, endpoint: Self.endpoint, accounting: accounting)
        case .success(let relay, let target, let attempts):
            let timeToFirstToken = ContinuousClock.now - admitted.meter.receivedAt
            let overhead = timeToFirstToken - upstreamTime
            var headers = RoutingHeaders.fields(plan: admitted.plan, target: target, attempts: attempts)
            headers[.contentType] = "text/event-stream; charset=utf-8"
            headers[.cacheControl] = "no-cache"
            headers[GatewayHeader.overheadMilliseconds] = RoutingHeaders.milliseconds(overhead)
            let answer = StreamedAnswer(
                admitted: admitted,
                target: target,
                attempts: attempts,
                timeToFirstToken: timeToFirstToken,
                overhead: overhead
            )
            // Should the body never run (the client left before the head went out), the request
            // is still accounted for, and its key's reservation given back.
            let abandonment = AbandonmentGuard { [accounting] in
                relay.cancel()
                accounting.finish(
                    admitted.meter.outcome(
                        endpoint: Self.endpoint,
                        route: admitted.plan.requestedName,
                        target: target,
                        status: Int(HTTPResponseStatusCompat.clientClosedRequest.code),
                        attempts: attempts,
                        timeToFirstToken: timeToFirstToken,
                        overhead: overhead
                    ),
                    settling: admitted.meter.reservation
                )
            }
            let body = ResponseBody { writer in
                abandonment.disarm()
                var events = relay.makeAsyncIterator()
                var isFinished = false
                defer {
                    events.cancel()
                    // A client that went away still used what it was sent.
                    if !isFinished {
                        self.finish(answer, events, status: Int(HTTPResponseStatusCompat.clientClosedRequest.code))
                    }
                }
                try await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) {
                    try await self.write(&events, of: answer, isFinished: &isFinished, to: &writer)
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: headers, body: body)
        }
    }

    /// Writes the answer's chunks as they come, then the usage chunk (with the cost) if the
    /// client asked for it, then `[DONE]`; or, when the answer was cut and could not be continued,
    /// an in-band error event, and never `[DONE]`, so the client knows the answer is incomplete.
    ///
    /// The request is accounted for (and `isFinished` set) before the last event is written, so a
    /// client that has seen the end of its answer has its row in the usage ledger.
    private func write(
        _ events: inout ContinuingStreamRelay.Iterator,
        of answer: StreamedAnswer,
        isFinished: inout Bool,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        var frame = ByteBuffer()
        while let event = try await events.next() {
            frame.clear()
            switch event {
            case .chunks(let chunks):
                for chunk in chunks { Self.appendEvent(chunk, to: &frame) }
            case .completed(let upstreamUsageChunk):
                let tally = StreamTally(events.segments, accounting: accounting)
                if answer.admitted.request.includeUsage {
                    if let reported = upstreamUsageChunk {
                        let chunk = tally.costUSD.map { CostAnnotation.addingCost($0, toUsageChunk: reported) } ?? reported
                        Self.appendEvent(chunk, to: &frame)
                    } else if let usage = tally.usage {
                        // Every segment's tokens (a continued answer), or the gateway's estimate.
                        let chunk = CostAnnotation.usageChunk(
                            id: events.transcript.id,
                            created: events.transcript.created,
                            model: answer.target.name,
                            usage: usage,
                            costUSD: tally.costUSD
                        )
                        Self.appendEvent(chunk, to: &frame)
                    }
                }
                frame.writeStaticString("data: [DONE]\n\n")
                isFinished = true
                finish(answer, events, tally: tally, status: 200)
            case .interrupted(let error):
                frame.writeStaticString("data: ")
                error.writeJSON(into: &frame)
                frame.writeStaticString("\n\n")
                isFinished = true
                finish(answer, events, status: Int(error.status.code))
            }
            try await writer.write(frame)
        }
    }

    /// Records the streamed request's outcome.
    private func finish(
        _ answer: StreamedAnswer,
        _ events: ContinuingStreamRelay.Iterator,
        tally: StreamTally? = nil,
        status: Int
    ) {
        let tally = tally ?? StreamTally(events.segments, accounting: accounting)
        let admitted = answer.admitted
        var outcome = admitted.meter.outcome(
            endpoint: Self.endpoint,
            route: admitted.plan.requestedName,
            target: events.lastTarget,
            status: status,
            attempts: answer.attempts + events.continuationAttempts,
            usage: tally.usage,
            costUSD: tally.costUSD,
            timeToFirstToken: answer.timeToFirstToken,
            overhead: answer.overhead
        )
        outcome.segments = tally.segments
        accounting.finish(outcome, settling: admitted.meter.reservation)
    }

    private static func appendEvent(_ chunk: ByteBuffer, to frame: inout ByteBuffer) {
        frame.writeStaticString("data: ")
        frame.writeImmutableBuffer(chunk)
        frame.writeStaticString("\n\n")
    }
}
