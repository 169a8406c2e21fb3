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
import Tracing

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
    /// What a streamed answer may keep to continue it after a cut
    /// (`server.max_stream_transcript_bytes`).
    let streamBounds: ContinuingStreamRelay.Bounds
    /// How each target continues another's cut answer; nil when it cannot.
    let continuationStyle: @Sendable (RouteTarget) -> ContinuationStyle?
    /// Prices answers and records finished requests.
    let accounting: RequestAccounting

    init(
        planning: RequestPlanning,
        executor: FailoverExecutor,
        maxRequestBytes: Int,
        maxStreamTranscriptBytes: Int,
        continuationStyle: @escaping @Sendable (RouteTarget) -> ContinuationStyle?,
        accounting: RequestAccounting
    ) {
        self.planning = planning
        self.executor = executor
        self.maxRequestBytes = maxRequestBytes
        self.streamBounds = ContinuingStreamRelay.Bounds(maximumTranscriptBytes: maxStreamTranscriptBytes)
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
        if admitted.request.isStreaming {
            return await stream(admitted, framing: ChatCompletionFraming(includeUsage: admitted.request.includeUsage))
        }
        return await complete(admitted)
    }

    static let endpoint = "chat"

    /// Answers `admitted` with one JSON body: the executor's priced chat completion, turned into
    /// the client's API's shape by `render` (chat's is the completion itself); errors in
    /// `envelope`.
    func complete<Body: ChatPathRequest>(
        _ admitted: AdmittedRequest<Body>,
        endpoint: String = endpoint,
        envelope: ErrorEnvelope = .openAI,
        render: @escaping @Sendable (CostAnnotation.PricedCompletion) async throws(GatewayError) -> ByteBuffer = { $0.body }
    ) async -> Response {
        let plan = admitted.plan
        let accounting = self.accounting
        return await admitted.respond(endpoint: endpoint, accounting: accounting, envelope: envelope, render: render) { upstreamTime in
            await executor.complete(
                admitted.request.chat,
                plan: plan,
                totalDeadline: admitted.totalDeadline,
                logger: admitted.logger,
                upstreamTime: &upstreamTime
            ) { answer, target in
                try accounting.priced(answer.body, from: target, plan: plan)
            }
        }
    }

    /// Answers `admitted` with a stream: the executor's chat chunks as they come, framed by
    /// `framing` (chat's own events, or another API's); a stream that fails before it commits is
    /// answered with an error in `envelope`.
    func stream<Body: ChatPathRequest, Framing: StreamFraming>(
        _ admitted: AdmittedRequest<Body>,
        framing: Framing,
        endpoint: String = endpoint,
        envelope: ErrorEnvelope = .openAI
    ) async -> Response {
        let connectionID = admitted.connectionID
        var upstreamTime = Duration.zero
        let result = await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) {
            await executor.stream(
                admitted.request.chat,
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
            return admitted.failure(
                error,
                target: target,
                attempts: attempts,
                endpoint: endpoint,
                accounting: accounting,
                envelope: envelope
            )
        case .success(let relay, let target, let attempts):
            return streamResponse(
                relay,
                answer: StreamedAnswer(admitted, endpoint: endpoint, target: target, attempts: attempts, upstreamTime: upstreamTime),
                plan: admitted.plan,
                connectionID: connectionID,
                framing: framing
            )
        }
    }

    /// The response that writes a committed chat stream as it comes, framed by `framing`.
    func streamResponse<Framing: StreamFraming>(
        _ relay: ContinuingStreamRelay,
        answer: StreamedAnswer,
        plan: RoutePlan,
        connectionID: ObjectIdentifier?,
        framing: Framing
    ) -> Response {
        let target = answer.target
        let attempts = answer.attempts
        let timeToFirstToken = answer.timeToFirstToken
        let overhead = answer.overhead
        let endpoint = answer.endpoint
        let headers = StreamedAnswer.headers(plan: plan, target: target, attempts: attempts, overhead: overhead)
        // Should the body never run (the client left before the head went out), the request
        // is still accounted for, and its key's reservation given back.
        let abandonment = AbandonmentGuard { [accounting] in
            relay.cancel()
            accounting.finish(
                answer.meter.outcome(
                    endpoint: endpoint,
                    route: answer.route,
                    target: target,
                    status: Int(HTTPResponseStatusCompat.clientClosedRequest.code),
                    attempts: attempts,
                    timeToFirstToken: timeToFirstToken,
                    overhead: overhead
                ),
                of: answer.meter
            )
            answer.meter.trace?.end()
        }
        // The request's span ends with the stream's last byte, not when this handler returns.
        let trace = answer.meter.trace
        trace?.endsWithBody()
        let body = ResponseBody { writer in
            abandonment.disarm()
            var events = relay.makeAsyncIterator()
            var framing = framing
            var isFinished = false
            defer {
                events.cancel()
                // A client that went away still used what it was sent.
                if !isFinished {
                    self.finish(answer, events, status: Int(HTTPResponseStatusCompat.clientClosedRequest.code))
                }
                trace?.end()
            }
            if let trace {
                // A continuation's spans are children of the request's.
                try await ServiceContext.$current.withValue(trace.context) {
                    try await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) {
                        try await self.write(&events, of: answer, framing: &framing, isFinished: &isFinished, to: &writer)
                    }
                }
            } else {
                try await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) {
                    try await self.write(&events, of: answer, framing: &framing, isFinished: &isFinished, to: &writer)
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Writes the answer's chunks as they come, framed by `framing`, then its end: the completion,
    /// or, when the answer was cut and could not be continued, an in-band error, so the client
    /// knows the answer is incomplete.
    ///
    /// The request is accounted for (and `isFinished` set) before the last event is written, so a
    /// client that has seen the end of its answer has its row in the usage ledger.
    private func write<Framing: StreamFraming>(
        _ events: inout ContinuingStreamRelay.Iterator,
        of answer: StreamedAnswer,
        framing: inout Framing,
        isFinished: inout Bool,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        var frame = ByteBuffer()
        var isOpen = false
        while let event = try await events.next() {
            frame.clear()
            if !isOpen {
                framing.opening(modelName: answer.target.name, into: &frame)
                isOpen = true
            }
            switch event {
            case .chunks(let chunks):
                framing.append(chunks, into: &frame)
            case .completed(let upstreamUsageChunk):
                let tally = StreamTally(events.segments, accounting: accounting)
                let completion = StreamCompletion(
                    upstreamUsageChunk: upstreamUsageChunk,
                    tally: tally,
                    id: events.transcript.id,
                    created: events.transcript.created,
                    modelName: answer.target.name
                )
                isFinished = true
                finish(answer, events, tally: tally, status: 200)
                await framing.completion(completion, into: &frame)
            case .interrupted(let error):
                isFinished = true
                finish(answer, events, status: Int(error.status.code))
                await framing.interruption(error, into: &frame)
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
        var outcome = answer.meter.outcome(
            endpoint: answer.endpoint,
            route: answer.route,
            target: events.lastTarget,
            status: status,
            attempts: answer.attempts + events.continuationAttempts,
            usage: tally.usage,
            costUSD: tally.costUSD,
            timeToFirstToken: answer.timeToFirstToken,
            overhead: answer.overhead
        )
        outcome.segments = tally.segments
        accounting.finish(outcome, of: answer.meter, finishReasons: events.transcript.finishReasons)
    }
}
