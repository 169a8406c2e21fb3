import Logging
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyRouting
import NIOCore
import Tracing

/// A streamed chat answer that outlives its upstream: when the stream that committed is cut after
/// commit, the answer is continued on a later target of the plan that supports it.
///
/// ``FailoverExecutor/stream(_:plan:totalDeadline:logger:bounds:continuationStyle:upstreamTime:)``
/// starts it once a target's stream commits. Iterating it yields the chunks to send the client, in
/// order, then one ending: ``Event/completed(upstreamUsageChunk:)`` or
/// ``Event/interrupted(_:)``. Framing and writing them is the caller's; so is accounting, for
/// which the iterator keeps each target's ``StreamSegment``.
///
/// ```swift
/// var events = answer.makeAsyncIterator()
/// defer { events.cancel() }
/// while let event = try await events.next() {
///     switch event {
///     case .chunks(let chunks): write(chunks)
///     case .completed: write("[DONE]")
///     case .interrupted(let error): write(error)
///     }
/// }
/// ```
///
/// A continuation asks the next target after the failed one that supports it
/// (``ContinuationStyle``) for the rest, with the text already sent as a prefill
/// (``ContinuationRequest``). Each candidate is tried alone through the executor, so breakers,
/// retries and the privacy check apply as for any attempt; one that fails before committing (a 4xx
/// refusing the prefill, a timeout) moves on to the next. The total time budget is the request's.
/// A continuation's chunks carry the original stream's `id` and `created`, and its announcement of
/// the assistant role is dropped: the client already had one. Only a single-choice, text-only
/// answer whose text the transcript holds whole can be continued.
///
/// - warning: Call ``Iterator/cancel()`` when iteration ends, and ``cancel()`` when it never
///   starts: each stops the upstream and counts the stream out of flight.
public struct ContinuingStreamRelay: AsyncSequence, Sendable {
    /// Each step of the answer.
    public typealias Element = Event
    /// The cancellation (a ``ProviderError`` of kind `cancelled`) when the client went away.
    public typealias Failure = any Error

    /// One step of the answer.
    public enum Event: Sendable {
        /// Chunks for the client, in order: OpenAI `chat.completion.chunk` objects naming
        /// ``ContinuingStreamRelay/target`` as `model`.
        case chunks([ByteBuffer])
        /// The answer is complete: the last event. `upstreamUsageChunk` is the usage chunk its only
        /// upstream reported (`model` rewritten), which covers the whole answer; nil when the answer
        /// was continued or the upstream reported none, and then the segments' usage does.
        case completed(upstreamUsageChunk: ByteBuffer?)
        /// The answer was cut and no later target could continue it: the last event, the error to
        /// end the stream with, in-band, so the client knows its answer is incomplete.
        case interrupted(GatewayError)
    }

    /// What the answer may hold in memory.
    public struct Bounds: Sendable {
        /// The most text kept to continue the answer after a cut
        /// (`server.max_stream_transcript_bytes`).
        public var maximumTranscriptBytes: Int

        /// Creates bounds.
        public init(maximumTranscriptBytes: Int) {
            self.maximumTranscriptBytes = maximumTranscriptBytes
        }
    }

    /// What continuing the answer needs: the request, its plan and budget, and the executor.
    struct Context: Sendable {
        let chat: ChatCompletionRequest
        let plan: RoutePlan
        let totalDeadline: ContinuousClock.Instant
        let logger: Logger
        let bounds: Bounds
        let continuationStyle: @Sendable (RouteTarget) -> ContinuationStyle?
        let executor: FailoverExecutor
        /// The request's trail, kept from the handler that made the relay: the relay runs after it returned.
        var trail: AttemptTrail? = AttemptTrail.current
    }

    /// The target whose stream committed first; every chunk names it as `model`.
    public let target: RouteTarget
    private let first: StreamRelay
    private let lease: InFlightLease
    private let context: Context

    init(first: StreamRelay, target: RouteTarget, lease: InFlightLease, context: Context) {
        self.first = first
        self.target = target
        self.lease = lease
        self.context = context
    }

    /// Stops the first upstream and counts the stream out of flight, for an answer never iterated
    /// (the client went away before the response head was sent).
    public func cancel() {
        first.cancel()
        lease.end()
    }

    /// Starts relaying the answer; iterate it once.
    public func makeAsyncIterator() -> Iterator {
        Iterator(first: first, target: target, lease: lease, context: context)
    }

    /// Why a cut answer longer than the transcript bound was not continued.
    static func tooLongToContinue(_ failure: String, bound: Int) -> String {
        "\(failure). The answer was longer than the gateway keeps to continue it on another target "
            + "(server.max_stream_transcript_bytes, \(ConfigValueParsing.byteSizeText(bound))), so it could not be continued; "
            + "the response is incomplete."
    }

    /// Relays the answer segment by segment, and keeps what accounting for it needs.
    public struct Iterator: AsyncIteratorProtocol {
        /// Where the answer stands.
        private enum Phase {
            /// A segment has committed; its held-back chunks go first.
            case committed
            /// The segment's chunks after commit are being relayed.
            case relaying
            /// The segment was cut by `failure` after commit.
            case cut(ProviderError)
            /// The ending has been returned.
            case ended
        }

        private let context: Context
        private let lease: InFlightLease
        private let first: StreamRelay
        private let reportedName: String
        private var phase = Phase.committed
        private var current: StreamRelay
        private var currentTarget: RouteTarget
        private var isContinuation = false
        /// The open segment's splice, when its target was asked the request again without a
        /// prefill; nil for the first segment and a prefilled continuation.
        private var splice: StreamSplice?
        /// The failure that cut the answer last, and the target it cut: what a later divergence
        /// reports.
        private var lastCut: (failure: ProviderError, target: RouteTarget)?
        /// The estimated text tokens sent before the open segment; nil between segments.
        private var openSegmentStart: Int?
        private var endedSegments: [StreamSegment] = []

        /// What the client has been sent so far.
        public private(set) var transcript: StreamTranscript
        /// Upstream calls made to continue the answer, beyond those until the first commit.
        public private(set) var continuationAttempts = 0

        /// Each target's part of the answer so far, the open one's up to now.
        public var segments: [StreamSegment] {
            guard let openSegmentStart else { return endedSegments }
            return endedSegments + [segment(since: openSegmentStart)]
        }

        /// The target of the latest segment.
        public var lastTarget: RouteTarget { currentTarget }

        init(first: StreamRelay, target: RouteTarget, lease: InFlightLease, context: Context) {
            self.context = context
            self.lease = lease
            self.first = first
            self.reportedName = target.name
            self.current = first
            self.currentTarget = target
            self.transcript = StreamTranscript(maximumTextBytes: context.bounds.maximumTranscriptBytes)
            self.openSegmentStart = 0
        }

        /// Stops the upstream being read and counts the stream out of flight; later calls do
        /// nothing.
        public func cancel() {
            current.cancel()
            first.cancel()
            lease.end()
        }

        /// The next chunks for the client, or the answer's ending; nil after the ending, or when
        /// the task was cancelled as the answer completed.
        ///
        /// - Throws: The cancellation when the task is cancelled while relaying.
        public mutating func next() async throws -> Event? {
            while true {
                switch phase {
                case .ended:
                    return nil
                case .committed:
                    phase = .relaying
                    var sent: [ByteBuffer] = []
                    for chunk in current.committedChunks {
                        if isContinuation, StreamTranscript.isRoleAnnouncement(chunk) { continue }
                        guard let admitted = admit(chunk) else { return diverged() }
                        if let admitted { sent.append(record(admitted)) }
                    }
                    if !sent.isEmpty { return .chunks(sent) }
                case .relaying:
                    do {
                        while let chunk = try await current.next() {
                            if isContinuation, StreamTranscript.isRoleAnnouncement(chunk) { continue }
                            guard let admitted = admit(chunk) else { return diverged() }
                            guard let admitted else { continue }
                            return .chunks([record(admitted)])
                        }
                    } catch let failure as ProviderError where failure.kind != .cancelled {
                        endSegment()
                        // An in-band error quoting the upstream's text never passed through the executor.
                        phase = .cut(context.executor.scrubber.scrub(failure))
                        continue
                    }
                    return complete()
                case .cut(let failure):
                    if let ending = await continueOrEnd(after: failure) { return ending }
                }
            }
        }

        /// What of `chunk` goes to the client: itself, or, while a splice has not caught up, what
        /// it adds to the text already sent (`.some(nil)`: nothing); nil when the splice diverged.
        private mutating func admit(_ chunk: ByteBuffer) -> ByteBuffer?? {
            guard var splicing = splice else { return .some(chunk) }
            let hadCaughtUp = splicing.hasCaughtUp
            let step = splicing.admit(chunk)
            splice = splicing
            if !hadCaughtUp, splicing.hasCaughtUp {
                context.executor.observer?.continuationEnded(route: context.plan.requestedName, at: currentTarget, outcome: .spliced)
                context.logger.info("the restarted answer caught up and was spliced", metadata: ["target": "\(currentTarget.name)"])
            }
            switch step {
            case .withhold: return .some(nil)
            case .send(let admitted): return .some(admitted)
            case .diverged: return nil
            }
        }

        /// The spliced answer departed from the text already sent: its upstream is stopped at once
        /// and the answer ends with the failure that cut it.
        private mutating func diverged() -> Event {
            current.cancel()
            endSegment()
            phase = .ended
            context.executor.observer?.continuationEnded(route: context.plan.requestedName, at: currentTarget, outcome: .diverged)
            context.trail?.diverged(currentTarget)
            context.logger.warning(
                "the restarted answer diverged from the text already sent",
                metadata: ["target": "\(currentTarget.name)"]
            )
            let original = lastCut?.failure.message ?? "the upstream failed"
            let cutTarget = lastCut?.target.name ?? reportedName
            return .interrupted(
                GatewayError(
                    status: .badGateway,
                    message: "The answer from \(cutTarget) was interrupted: \(original). \(currentTarget.name) was asked the request "
                        + "again, but its answer departed from the text already sent, so it could not finish it; the response is incomplete.",
                    type: "upstream_error",
                    code: "stream_interrupted"
                )
            )
        }

        /// Records `chunk` as sent, stamped as the first stream's when it is a continuation's.
        private mutating func record(_ chunk: ByteBuffer) -> ByteBuffer {
            let sent = isContinuation ? transcript.stamping(chunk) : chunk
            transcript.record(sent)
            return sent
        }

        /// The open segment, from its start to now.
        private func segment(since start: Int) -> StreamSegment {
            if let reported = current.reportedUsage?.usage { return StreamSegment(target: currentTarget, usage: reported) }
            if let splice {
                // Asked the client's prompt alone, it wrote the text it reproduced and what followed.
                let usage = TokenUsage(promptTokens: context.plan.promptTokens, completionTokens: splice.writtenTokens, isEstimated: true)
                return StreamSegment(target: currentTarget, usage: usage)
            }
            // The prompt, with the text already sent, which a continuation's prompt carries.
            let sent = Swift.max(0, transcript.estimatedTextTokens - start)
            let usage = TokenUsage(promptTokens: context.plan.promptTokens + start, completionTokens: sent, isEstimated: true)
            return StreamSegment(target: currentTarget, usage: usage)
        }

        private mutating func endSegment() {
            guard let start = openSegmentStart else { return }
            openSegmentStart = nil
            endedSegments.append(segment(since: start))
        }

        /// The segment's upstream finished the answer.
        private mutating func complete() -> Event? {
            // A restarted answer that ended before reproducing the text already sent is not it.
            if let splice, !splice.hasCaughtUp { return diverged() }
            endSegment()
            phase = .ended
            // A continued answer's usage covers its last segment only: it teaches nothing.
            if !isContinuation, let reported = current.reportedUsage?.usage {
                context.executor.recordAnswerLength(
                    reported.completionTokens,
                    by: currentTarget,
                    in: context.plan,
                    choices: context.chat.choiceCount
                )
            }
            guard !Task.isCancelled else { return nil }
            context.executor.reportSkippedChunks(of: current, from: currentTarget, logger: context.logger)
            return .completed(upstreamUsageChunk: isContinuation ? nil : current.reportedUsage?.chunk)
        }

        /// After a cut: continues the answer on a later target (nil: relay on), or says why it
        /// cannot be.
        private mutating func continueOrEnd(after failure: ProviderError) async -> Event? {
            let logger = context.logger
            context.executor.observer?.attemptFailed(currentTarget, error: failure)
            context.trail?.cut(currentTarget, kind: failure.kind)
            logger.warning("stream failed after commit", metadata: ["target": "\(currentTarget.name)", "kind": "\(failure.kind.rawValue)"])
            lastCut = (failure, currentTarget)
            let isSingleChoice = context.chat.choiceCount == 1
            var reason = "\(failure.message). The response is incomplete."
            if isSingleChoice, transcript.isContinuable, !Task.isCancelled {
                let found = await tracedContinuation(after: failure)
                if let (next, target, spliced) = found {
                    current.cancel()
                    context.executor.observer?.failedOver(
                        route: context.plan.requestedName,
                        from: currentTarget,
                        to: target,
                        reason: failure.kind
                    )
                    current = next
                    currentTarget = target
                    isContinuation = true
                    splice = spliced ? StreamSplice(sent: transcript.text) : nil
                    openSegmentStart = transcript.estimatedTextTokens
                    phase = .committed
                    logger.info(
                        spliced ? "restarting the answer to splice it" : "continuing the answer",
                        metadata: ["target": "\(target.name)"]
                    )
                    return nil
                }
                reason = "\(failure.message). No later target could continue it; the response is incomplete."
            } else if isSingleChoice, !transcript.finished, transcript.sentOtherThanText {
                reason = "\(failure.message). Only text answers can be continued; the response is incomplete."
            } else if isSingleChoice, !transcript.finished, transcript.isTruncated {
                reason = ContinuingStreamRelay.tooLongToContinue(failure.message, bound: context.bounds.maximumTranscriptBytes)
            }
            phase = .ended
            return .interrupted(
                GatewayError(
                    status: .badGateway,
                    message: "The answer from \(currentTarget.name) was interrupted: \(reason)",
                    type: "upstream_error",
                    code: "stream_interrupted"
                )
            )
        }

        /// ``continuation()``, as a span (a child of the request's) when the request is traced: the
        /// cut target and why, how the answer went on; the attempts it makes are its children.
        private mutating func tracedContinuation(
            after failure: ProviderError
        ) async -> (
            relay: StreamRelay, target: RouteTarget, spliced: Bool
        )? {
            guard let tracer = context.executor.tracer, let parent = ServiceContext.current else { return await continuation() }
            let span = tracer.startSpan("continue \(context.plan.requestedName)", context: parent, ofKind: .internal)
            span.updateAttributes { attributes in
                attributes[TraceAttribute.route] = context.plan.requestedName
                attributes[TraceAttribute.cutTarget] = currentTarget.name
                attributes[TraceAttribute.cutReason] = failure.kind.rawValue
            }
            let found = await ServiceContext.$current.withValue(span.context) { await continuation() }
            span.updateAttributes { attributes in
                attributes[TraceAttribute.continuationOutcome] = found.map { $0.spliced ? "spliced" : "prefilled" } ?? "none"
                if let found { attributes[TraceAttribute.target] = found.target.name }
            }
            if found == nil { span.setStatus(SpanStatus(code: .error, message: "no later target could continue the answer")) }
            span.end()
            return found
        }

        /// Starts continuing the answer on a target after the failed one in the plan, nil when no
        /// target's stream commits; `spliced` says which way it goes.
        ///
        /// First, in plan order, the targets that continue a prefill are given the text sent so far
        /// as one. Then, when the route allows it (`resilience.splice`), the targets that cannot
        /// (they do not support it, or refused the prefill with a 400) are asked the client's
        /// request again, in plan order, for the relay to splice.
        private mutating func continuation() async -> (relay: StreamRelay, target: RouteTarget, spliced: Bool)? {
            let plan = context.plan
            guard let failedIndex = plan.entries.firstIndex(where: { $0.target == currentTarget }) else { return nil }
            var restartable: [PlannedTarget] = []
            for entry in plan.entries[(failedIndex + 1)...] {
                guard !Task.isCancelled, ContinuousClock.now < context.totalDeadline else { return nil }
                if plan.isPrivate, entry.locality != .local { continue }
                guard let style = context.continuationStyle(entry.target),
                    let request = try? ContinuationRequest.make(continuing: context.chat, partialAnswer: transcript.text, style: style)
                else {
                    restartable.append(entry)
                    continue
                }
                switch await start(request, on: entry) {
                case .success(let relay, let target, _):
                    context.executor.observer?.continuationEnded(route: plan.requestedName, at: target, outcome: .prefilled)
                    return (relay, target, false)
                case .failure(let error, _, _):
                    context.logger.info(
                        "continuation target failed",
                        metadata: ["target": "\(entry.target.name)", "status": .stringConvertible(Int(error.status.code))]
                    )
                    // A 400 is the target refusing the prefill (many models do): it may still
                    // answer the request itself. Any other failure leaves it out.
                    guard error.status == .badRequest else { continue }
                    context.executor.observer?.continuationEnded(route: plan.requestedName, at: entry.target, outcome: .prefillRejected)
                    context.trail?.prefillRejected(entry.target)
                    restartable.append(entry)
                }
            }
            guard plan.splicesContinuations else { return nil }
            for entry in restartable {
                guard !Task.isCancelled, ContinuousClock.now < context.totalDeadline else { return nil }
                switch await start(context.chat, on: entry) {
                case .success(let relay, let target, _):
                    return (relay, target, true)
                case .failure(let error, _, _):
                    context.logger.info(
                        "restarting the answer failed",
                        metadata: ["target": "\(entry.target.name)", "status": .stringConvertible(Int(error.status.code))]
                    )
                }
            }
            return nil
        }

        /// Starts `request` on `entry` alone, through the executor (breakers, retries), counting
        /// its attempts.
        private mutating func start(_ request: ChatCompletionRequest, on entry: PlannedTarget) async -> ExecutionResult<StreamRelay> {
            var single = context.plan
            single.entries = [entry]
            single.excluded = []
            var upstreamTime = Duration.zero
            let result = await AttemptTrail.$current.withValue(context.trail) {
                await context.executor.commitStream(
                    request,
                    plan: single,
                    totalDeadline: context.totalDeadline,
                    logger: context.logger,
                    reportedName: reportedName,
                    upstreamTime: &upstreamTime
                )
            }
            switch result {
            case .success(_, _, let attempts), .failure(_, _, let attempts): continuationAttempts += attempts
            }
            return result
        }
    }
}
