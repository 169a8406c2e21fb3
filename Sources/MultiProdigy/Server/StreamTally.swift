/// What a streamed answer used and cost, segment by segment: the first target's stream and any
/// continuation of it on another target.
///
/// A segment's tokens are what its upstream reported in its usage chunk; when it reported none (a
/// stream cut short, a server that ignores `stream_options`), they are estimated from the prompt
/// and the text the client received from it.
struct StreamTally: Sendable {
    /// The answer being tallied.
    let answer: StreamedAnswer
    /// What the client has been sent so far.
    var transcript = StreamTranscript()
    /// Whether the request has been accounted for.
    var isFinished = false
    /// Upstream calls made to continue the answer, beyond those until the first commit.
    var continuationAttempts = 0
    /// Tokens of the finished segments.
    private(set) var usage: TokenUsage?
    /// Cost of the finished segments whose price is known; nil when none is.
    private(set) var costUSD: Double?
    /// The target of the latest segment.
    private(set) var lastTarget: RouteTarget?
    /// Each finished segment's target, tokens and cost.
    private(set) var segments: [UsageSegment] = []
    private var open: (relay: StreamRelay, target: RouteTarget, textStart: Int)?

    /// Starts counting a tally for `answer`.
    init(answer: StreamedAnswer) {
        self.answer = answer
    }

    /// A new segment starts: `relay`'s stream from `target`.
    mutating func begin(_ relay: StreamRelay, on target: RouteTarget) {
        open = (relay, target, transcript.text.utf8.count)
        lastTarget = target
    }

    /// The open segment ended; adds its usage and cost. Returns the usage its upstream reported.
    @discardableResult
    mutating func end(accounting: RequestAccounting) -> TokenUsage? {
        guard let (relay, target, textStart) = open else { return nil }
        open = nil
        let reported = relay.reportedUsage?.usage
        let segment = reported ?? estimate(textStart: textStart)
        usage = (usage ?? .zero) + segment
        let cost = accounting.cost(of: segment, on: target)
        if let cost { costUSD = (costUSD ?? 0) + cost }
        segments.append(UsageSegment(target: target, usage: segment, costUSD: cost))
        return reported
    }

    /// The prompt (with the text already sent, which a continuation's prompt carries) and the text
    /// this segment sent.
    private func estimate(textStart: Int) -> TokenUsage {
        let text = Array(transcript.text.utf8)
        let before = text[..<min(textStart, text.count)].withUnsafeBytes { TokenEstimator.estimateTokens(inText: $0) }
        let sent = text[min(textStart, text.count)...].withUnsafeBytes { TokenEstimator.estimateTokens(inText: $0) }
        let prompt = answer.plan.promptTokens + (textStart > 0 ? before : 0)
        return TokenUsage(promptTokens: prompt, completionTokens: sent, isEstimated: true)
    }
}
