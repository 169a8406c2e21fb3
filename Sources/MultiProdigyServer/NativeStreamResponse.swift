import Hummingbird
import MultiProdigyAccounting
import MultiProdigyCore
import MultiProdigyFrontDoor
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// The response that writes a committed native stream: the upstream's own events, with `model`
/// renamed and `cost_usd` added to the final usage (``NativeStreamInspector``), accounted for
/// before its last event is written, and ended with the API's own error event when the answer was
/// cut, stalled or failed in-band, never with its completion.
struct NativeStreamResponse: Sendable {
    let relay: NativeStreamRelay
    let api: NativeAPI
    let answer: StreamedAnswer
    let plan: RoutePlan
    let accounting: RequestAccounting
    /// Masks secrets in the upstream's failure text (``FailoverExecutor/scrubber``), and learns the
    /// length of a complete answer for the planner.
    let executor: FailoverExecutor
    private var scrubber: SecretScrubber { executor.scrubber }
    /// The gateway's id for a Responses answer, replacing the upstream's.
    let responseID: String?
    /// The client's `previous_response_id`, echoed in a Responses answer.
    let previousResponseID: String?
    /// Learns the final `response` object of a Responses stream that completed.
    let completed: @Sendable (ByteBuffer) async -> Void

    /// Tokens for `characters` of answer text, when the upstream reported none: about four
    /// characters a token, as the gateway's estimator counts English.
    static func estimatedTokens(characters: Int) -> Int { (characters + 3) / 4 }

    func response(connectionID: ObjectIdentifier?) -> Response {
        let headers = StreamedAnswer.headers(plan: plan, target: answer.target, attempts: answer.attempts, overhead: answer.overhead)
        let relay = self.relay
        // Should the body never run (the client left before the head went out), the request is
        // still accounted for, and its key's reservation given back.
        let abandonment = AbandonmentGuard { [accounting, answer] in
            relay.cancel()
            accounting.finish(answer.outcome(status: Int(HTTPResponseStatusCompat.clientClosedRequest.code)), of: answer.meter)
            answer.meter.trace?.end()
        }
        // The request's span ends with the stream's last byte, not when the handler returns.
        let trace = answer.meter.trace
        trace?.endsWithBody()
        let body = ResponseBody { writer in
            abandonment.disarm()
            defer { trace?.end() }
            var inspector = NativeStreamInspector(
                api: api,
                modelName: answer.target.name,
                responseID: responseID,
                previousResponseID: previousResponseID
            )
            var isFinished = false
            defer {
                relay.cancel()
                // A client that went away still used what it was sent.
                if !isFinished { finish(inspector, status: Int(HTTPResponseStatusCompat.clientClosedRequest.code)) }
            }
            try await ClientDisconnectHandler.cancellingOnDisconnect(of: connectionID) {
                try await write(inspector: &inspector, isFinished: &isFinished, to: &writer)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Writes the events as they come, then the answer's end.
    private func write(inspector: inout NativeStreamInspector, isFinished: inout Bool, to writer: inout any ResponseBodyWriter) async throws
    {
        for event in relay.committedEvents {
            guard try await pass(event, inspector: &inspector, isFinished: &isFinished, to: &writer) else { return }
        }
        while true {
            // Only the upstream's failures are caught here; a failed write to the client throws
            // out of the body (the client went away: 499, as for chat).
            let next: SSEEvent?
            do {
                next = try await relay.next()
            } catch {
                // The client went away: the body's `defer` accounts for it (499); nothing more is written.
                guard !Task.isCancelled else { return }
                let failure = scrubber.scrub(ProviderError.classify(error))
                answer.meter.trail?.cut(answer.target, kind: failure.kind)
                try await fail(with: failure.message, inspector: &inspector, isFinished: &isFinished, to: &writer)
                return
            }
            guard let event = next else { break }
            guard try await pass(event, inspector: &inspector, isFinished: &isFinished, to: &writer) else { return }
        }
        // A cancelled iteration (the client went away) ends without an error, as a finished one
        // does; the body's `defer` accounts for it (499).
        guard !Task.isCancelled else { return }
        // The relay ends normally only after a complete answer, and the loop stops at its last
        // event; this is belt and braces.
        if !inspector.isComplete {
            try await fail(
                with: "the upstream's stream ended before the answer was complete",
                inspector: &inspector,
                isFinished: &isFinished,
                to: &writer
            )
        }
    }

    /// Writes one event; false when the answer has ended: its last event was written (nothing that
    /// follows, not even a failure, may reach the client after a completion), or it failed in-band.
    private func pass(
        _ event: SSEEvent,
        inspector: inout NativeStreamInspector,
        isFinished: inout Bool,
        to writer: inout any ResponseBodyWriter
    ) async throws -> Bool {
        let frame: ByteBuffer
        switch inspector.inspect(event) {
        case .forward(let bytes):
            frame = bytes
        case .usage(let usage):
            frame = inspector.pricedFrame(costUSD: accounting.cost(of: usage, on: answer.target).map(CostAnnotation.number))
        case .upstreamError(_, let message):
            try await fail(
                with: "the upstream reported an error: \(scrubber.scrub(message))",
                inspector: &inspector,
                isFinished: &isFinished,
                to: &writer
            )
            return false
        case .malformed(let reason):
            try await fail(
                with: "the upstream sent a malformed event (\(reason))",
                inspector: &inspector,
                isFinished: &isFinished,
                to: &writer
            )
            return false
        case .skip:
            return true
        }
        guard inspector.isComplete else {
            try await writer.write(frame)
            return true
        }
        // The upstream's answer is complete: its connection may finish its framing and be reused.
        relay.release()
        // Accounted for before the client sees the end of its answer.
        if !isFinished {
            isFinished = true
            finish(inspector, status: 200)
            if let response = inspector.completedResponse { await completed(response) }
        }
        try await writer.write(frame)
        return false
    }

    /// Ends the answer with the API's own error event, accounted for first.
    private func fail(
        with reason: String,
        inspector: inout NativeStreamInspector,
        isFinished: inout Bool,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        if !isFinished {
            isFinished = true
            finish(inspector, status: 502)
        }
        let message = "The answer from \(answer.target.name) was interrupted: \(reason). The response is incomplete."
        let type = api == .responses ? "stream_interrupted" : "api_error"
        try await writer.write(inspector.errorFrame(type: type, message: message))
    }

    /// Records the answer's outcome: the upstream's usage, or an estimate of what was sent.
    ///
    /// An answer that did not complete is charged at least for the text it sent: its upstream's
    /// last report (Anthropic's `message_start` says 1 or 2 output tokens) would let a client read
    /// a long answer and leave before the final count almost for free.
    private func finish(_ inspector: NativeStreamInspector, status: Int) {
        let estimatedAnswer = Self.estimatedTokens(characters: inspector.outputCharacters)
        var usage =
            inspector.reportedUsage
            ?? TokenUsage(promptTokens: plan.promptTokens, completionTokens: estimatedAnswer, isEstimated: true)
        if !inspector.isComplete, usage.completionTokens < estimatedAnswer {
            usage.completionTokens = estimatedAnswer
            usage.isEstimated = true
        }
        if inspector.isComplete, !usage.isEstimated {
            executor.recordAnswerLength(usage.completionTokens, by: answer.target, in: plan, choices: 1)
        }
        accounting.finish(
            answer.outcome(status: status, usage: usage, costUSD: accounting.cost(of: usage, on: answer.target)),
            of: answer.meter
        )
    }
}
