import MultiProdigyConfig
import MultiProdigyPrivacy
import MultiProdigyRouting

/// Decides, for one streaming attempt, when the answer is committed to the client and which
/// timeout applies next.
///
/// A stream commits at its first chunk that carries content (text, a tool call, a refusal or a
/// finish reason); chunks before that (the role announcement) are held back, so a failure before
/// commit can still move to another target without the client noticing. Before commit the
/// first-token limit applies, after it the stall limit; the total deadline applies throughout.
///
/// The machine is a value type with no clock of its own: callers pass instants in, which keeps it
/// exhaustively testable.
public struct StreamGuardStateMachine: Sendable {
    /// The limits of one attempt.
    public struct Limits: Sendable, Equatable {
        /// Longest wait for the first content chunk, from the start of the attempt.
        public var firstToken: Duration
        /// Longest silence between chunks once committed.
        public var stall: Duration
        /// When the whole call must be over.
        public var totalDeadline: ContinuousClock.Instant

        /// Creates limits.
        public init(firstToken: Duration, stall: Duration, totalDeadline: ContinuousClock.Instant) {
            self.firstToken = firstToken
            self.stall = stall
            self.totalDeadline = totalDeadline
        }
    }

    /// Which limit a deadline enforces.
    public enum TimeoutKind: String, Sendable, Equatable {
        /// No content chunk in time.
        case firstToken = "first_token"
        /// Silence between chunks.
        case stall
        /// The whole call's budget.
        case total
    }

    /// Where the stream is.
    public enum Phase: Sendable, Equatable {
        /// Nothing with content yet; chunks are held back.
        case awaitingContent
        /// The client has been sent the answer's start.
        case committed
        /// The stream ended or failed; no deadline applies.
        case finished
    }

    /// What to do with a received chunk.
    public enum ChunkAction: Sendable, Equatable {
        /// Hold it back: nothing has been committed.
        case holdBack
        /// Send the held-back chunks and this one: the stream commits now.
        case commit
        /// Send it.
        case forward
        /// Ignore it: the stream already finished.
        case ignore
    }

    /// How the upstream's stream ended.
    public enum Ending: Sendable, Equatable {
        /// Properly: `[DONE]`, or a finish reason for every choice followed by a clean close.
        case complete
        /// Cut short: no terminator, and some choice without a finish reason.
        case truncated
    }

    /// Current phase.
    public private(set) var phase: Phase = .awaitingContent
    /// Whether any choice reported a `finish_reason`.
    public private(set) var sawFinishReason = false
    /// The choices (by `index`) that reported a `finish_reason`.
    public private(set) var finishedChoices: Set<Int> = []
    /// How many choices the client asked for (`n`); the answer is complete when all have finished.
    private let expectedChoices: Int
    /// Whether the upstream sent its end-of-stream sentinel.
    public private(set) var sawDone = false
    private let limits: Limits
    private let firstTokenDeadline: ContinuousClock.Instant
    private var lastActivity: ContinuousClock.Instant
    /// The limit that ended the attempt, once one has (``expire(at:)``).
    public private(set) var expiredKind: TimeoutKind?
    /// Whether the relay is not reading the upstream because its caller is busy with the client
    /// (between handing a chunk on and being asked for the next, the time a slow client takes): the stall
    /// limit, which judges the upstream, is not counted meanwhile (the total limit still is).
    public private(set) var isWaitingForClient = false

    /// Starts guarding an attempt that began at `start`.
    public init(limits: Limits, start: ContinuousClock.Instant, expectedChoices: Int = 1) {
        self.limits = limits
        self.expectedChoices = max(1, expectedChoices)
        self.firstTokenDeadline = start.advanced(by: limits.firstToken)
        self.lastActivity = start
    }

    /// The next deadline and the limit it enforces; nil once finished.
    public var nextDeadline: (instant: ContinuousClock.Instant, kind: TimeoutKind)? {
        switch phase {
        case .awaitingContent:
            return firstTokenDeadline < limits.totalDeadline ? (firstTokenDeadline, .firstToken) : (limits.totalDeadline, .total)
        case .committed where isWaitingForClient:
            return (limits.totalDeadline, .total)
        case .committed:
            let stallDeadline = lastActivity.advanced(by: limits.stall)
            return stallDeadline < limits.totalDeadline ? (stallDeadline, .stall) : (limits.totalDeadline, .total)
        case .finished:
            return nil
        }
    }

    /// When the watchdog should look again, at the latest: the next deadline, but no later than one
    /// stall interval from `now` while the stream has not committed or waits for its client, because
    /// committing, and the client catching up, bring an earlier stall deadline.
    public func nextCheck(after now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard let deadline = nextDeadline else { return nil }
        // Before commit, and while waiting for a client, a stall deadline may come back earlier
        // than the one in force (at commit, and when the client catches up): look every stall
        // interval meanwhile.
        guard phase == .awaitingContent || isWaitingForClient else { return deadline.instant }
        return min(deadline.instant, now.advanced(by: limits.stall))
    }

    /// Ends the attempt if a limit has expired at `now`, and says which; chunks arriving later are
    /// ignored, so a stream cannot commit after its first-token limit fired.
    public mutating func expire(at now: ContinuousClock.Instant) -> TimeoutKind? {
        guard let kind = expiredLimit(at: now) else { return nil }
        phase = .finished
        expiredKind = kind
        return kind
    }

    /// The limit that has expired at `now`, if any.
    public func expiredLimit(at now: ContinuousClock.Instant) -> TimeoutKind? {
        guard let deadline = nextDeadline, now >= deadline.instant else { return nil }
        return deadline.kind
    }

    /// Records a chunk received at `now`.
    ///
    /// - Parameters:
    ///   - now: When it arrived.
    ///   - carriesContent: Whether it carries answer content.
    ///   - finishing: The `index` of each choice it reports a `finish_reason` for.
    public mutating func chunkReceived(at now: ContinuousClock.Instant, carriesContent: Bool, finishing: [Int]) -> ChunkAction {
        let finishes = !finishing.isEmpty
        if finishes {
            sawFinishReason = true
            finishedChoices.formUnion(finishing)
        }
        switch phase {
        case .finished:
            return .ignore
        case .committed:
            lastActivity = now
            return .forward
        case .awaitingContent:
            guard carriesContent || finishes else { return .holdBack }
            lastActivity = now
            phase = .committed
            return .commit
        }
    }

    /// The relay hands a chunk on and stops reading the upstream until its caller asks for the next
    /// (the caller is writing to the client, which a slow client makes long): only
    /// the total limit applies until ``clientCaughtUp(at:)``.
    public mutating func waitingForClient() {
        isWaitingForClient = true
    }

    /// The client caught up at `now`: the stall limit counts again, from `now`.
    public mutating func clientCaughtUp(at now: ContinuousClock.Instant) {
        guard isWaitingForClient else { return }
        isWaitingForClient = false
        lastActivity = now
    }

    /// Records the upstream's end-of-stream sentinel.
    public mutating func doneReceived() {
        sawDone = true
    }

    /// Records that the upstream's stream ended and says whether the answer was complete.
    public mutating func sourceEnded() -> Ending {
        phase = .finished
        return sawDone || finishedChoices.count >= expectedChoices ? .complete : .truncated
    }

    /// The failure message of a limit that expired, as the client and the logs read it.
    public static func describe(_ kind: TimeoutKind) -> String {
        switch kind {
        case .firstToken: "no answer content arrived within the first-token time limit"
        case .stall: "the upstream stopped sending for longer than the stall limit"
        case .total: "the request's total time budget ran out"
        }
    }

    /// Records a failure; no deadline applies afterwards.
    public mutating func failed() {
        phase = .finished
    }
}
