import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import MultiProdigyCore

/// What a streamed answer used and cost, segment by segment: the first target's stream and any
/// continuation of it on another target.
///
/// A segment's tokens are what its upstream reported in its usage chunk; when it reported none (a
/// stream cut short, a server that ignores `stream_options`), they are estimated from the prompt
/// and the text the client received from it, counted as it went by (the transcript keeps only a
/// bounded part of the text).
struct StreamTally: Sendable {
    /// The answer being tallied.
    let answer: StreamedAnswer
    /// What the client has been sent so far.
    var transcript: StreamTranscript
    /// Whether the request has been accounted for.
    var isFinished = false
    /// Upstream calls made to continue the answer, beyond those until the first commit.
    var continuationAttempts = 0
    /// Each finished segment's target, tokens and cost.
    private(set) var segments: [UsageSegment] = []
    /// Tokens of the finished segments; nil before the first ends.
    var usage: TokenUsage? { segments.isEmpty ? nil : segments.reduce(.zero) { $0 + $1.usage } }
    /// Cost of the finished segments whose price is known; nil when none is.
    var costUSD: Double? {
        let costs = segments.compactMap(\.costUSD)
        return costs.isEmpty ? nil : costs.reduce(0, +)
    }
    /// The target of the latest segment.
    var lastTarget: RouteTarget? { open?.target ?? segments.last?.target }
    private var open: (relay: StreamRelay, target: RouteTarget, tokensBefore: Int)?

    /// Starts counting a tally for `answer`, whose transcript keeps at most `maximumTranscriptBytes`
    /// of text (`server.max_stream_transcript_bytes`).
    init(answer: StreamedAnswer, maximumTranscriptBytes: Int) {
        self.answer = answer
        self.transcript = StreamTranscript(maximumTextBytes: maximumTranscriptBytes)
    }

    /// A new segment starts: `relay`'s stream from `target`.
    mutating func begin(_ relay: StreamRelay, on target: RouteTarget) {
        open = (relay, target, transcript.estimatedTextTokens)
    }

    /// The open segment ended; adds its usage and cost. Returns the usage its upstream reported.
    @discardableResult
    mutating func end(accounting: RequestAccounting) -> TokenUsage? {
        guard let (relay, target, tokensBefore) = open else { return nil }
        open = nil
        let reported = relay.reportedUsage?.usage
        let segment = reported ?? estimate(tokensBefore: tokensBefore)
        segments.append(UsageSegment(target: target, usage: segment, costUSD: accounting.cost(of: segment, on: target)))
        return reported
    }

    /// The prompt (with the text already sent, which a continuation's prompt carries) and the text
    /// this segment sent.
    private func estimate(tokensBefore: Int) -> TokenUsage {
        let sent = max(0, transcript.estimatedTextTokens - tokensBefore)
        return TokenUsage(promptTokens: answer.plan.promptTokens + tokensBefore, completionTokens: sent, isEstimated: true)
    }
}
