import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// Which of the front door's time limits a client connection is under, and what to do when it runs
/// out: the connection handler feeds it what happens on the connection, and asks it, now and then,
/// whether the time is up.
///
/// A connection is always in one phase of reading:
///
/// | phase | limit | when it runs out |
/// |---|---|---|
/// | waiting for a request (before the first, or between keep-alive requests) | `idle_timeout`, from the end of the last answer | close quietly |
/// | a head has begun (bytes came, no complete head yet) | `head_timeout`, from its first bytes | 408, close |
/// | a body is arriving | `body_timeout`, from the end of its head | 408, close |
/// | the rest of a body whose request was already answered (413, 401) | `body_timeout`, from the end of its head | close |
///
/// While an answer is in flight no limit applies: the answer has its own (the route's `total`),
/// and a stream may rightly take minutes.
///
/// ```swift
/// var deadlines = ClientDeadlineStateMachine(limits: limits, openedAt: .now())
/// deadlines.bytesArrived(at: .now())
/// if let expiry = deadlines.expiry(at: .now()) { /* answer 408 or close */ }
/// ```
struct ClientDeadlineStateMachine: Equatable {
    /// The limits (`server.head_timeout`, `server.body_timeout`, `server.idle_timeout`).
    struct Limits: Equatable, Sendable {
        /// Time to send a whole head, from its first bytes.
        var head: TimeAmount
        /// Time to send a whole body, from the end of its head.
        var body: TimeAmount
        /// Time a connection may wait for its next request.
        var idle: TimeAmount

        /// The limits of `settings`.
        init(_ settings: ServerSettings) {
            self.init(head: settings.headTimeout.timeAmount, body: settings.bodyTimeout.timeAmount, idle: settings.idleTimeout.timeAmount)
        }

        /// Limits given one by one.
        init(head: TimeAmount, body: TimeAmount, idle: TimeAmount) {
            self.head = head
            self.body = body
            self.idle = idle
        }

        /// How often a connection checks its deadline: a quarter of the shortest limit, between
        /// 10 ms and 1 s, so a limit is enforced at most that late.
        var checkInterval: TimeAmount {
            let shortest = min(head, body, idle)
            return min(max(.nanoseconds(shortest.nanoseconds / 4), .milliseconds(10)), .seconds(1))
        }
    }

    /// What the connection is reading.
    enum Phase: Equatable {
        /// Waiting for a request, since the end of the last answer (or the connection's start).
        case idle(since: NIODeadline)
        /// A head has begun.
        case head(since: NIODeadline)
        /// A body is arriving; its head ended at `headEnded`.
        case body(headEnded: NIODeadline)
        /// The rest of a body whose request was answered without it.
        case discarding(headEnded: NIODeadline)
    }

    /// What to do with a connection whose time is up.
    enum Expiry: Equatable {
        /// Nothing was asked: close without a word.
        case closeQuietly
        /// A request is half-sent and unanswered: answer 408, then close.
        case requestTimeout
        /// The request was answered already: close, since a second answer would be one too many.
        case close
    }

    /// The limits.
    let limits: Limits
    /// What is being read.
    private(set) var phase: Phase
    /// Whether an answer is in flight.
    private(set) var answering = false
    /// Whether bytes came while an answer was in flight: the start of a pipelined request, whose
    /// head limit starts when the answer ends.
    private(set) var bytesWaiting = false

    /// A connection that opened at `openedAt`, waiting for its first request.
    init(limits: Limits, openedAt: NIODeadline) {
        self.limits = limits
        self.phase = .idle(since: openedAt)
    }

    /// Bytes came from the client: they begin a head when the connection was waiting for a request.
    /// Bytes that arrive while an answer is in flight wait for it: they begin a head when it ends.
    /// `now` is read only when a head begins, so the bytes of a request under way cost no clock read.
    mutating func bytesArrived(at now: @autoclosure () -> NIODeadline) {
        guard case .idle = phase, !bytesWaiting else { return }
        if answering {
            bytesWaiting = true
        } else {
            phase = .head(since: now())
        }
    }

    /// A request's head is complete: its body follows (an empty one ends at once).
    mutating func headArrived(at now: NIODeadline) {
        phase = .body(headEnded: now)
        bytesWaiting = false
    }

    /// The request's body is complete (or it had none): the reading side waits for the next
    /// request, whose idle time starts when the answer ends.
    mutating func bodyEnded(at now: NIODeadline) {
        phase = .idle(since: now)
    }

    /// An answer started. When its request's body is still arriving (an early 413 or 401), the
    /// rest of that body is read only to be dropped.
    mutating func answerStarted() {
        answering = true
        if case .body(let headEnded) = phase { phase = .discarding(headEnded: headEnded) }
    }

    /// The answer ended: the idle time starts now, unless a body is still being dropped, or the
    /// head time, when bytes of the next request came meanwhile.
    mutating func answerEnded(at now: NIODeadline) {
        answering = false
        guard case .idle = phase else { return }
        phase = bytesWaiting ? .head(since: now) : .idle(since: now)
        bytesWaiting = false
    }

    /// When the current limit runs out; nil while an answer is in flight.
    var deadline: NIODeadline? {
        guard !answering else { return nil }
        switch phase {
        case .idle(let since): return since + limits.idle
        case .head(let since): return since + limits.head
        case .body(let headEnded), .discarding(let headEnded): return headEnded + limits.body
        }
    }

    /// What to do at `now`: nil while time remains or an answer is in flight.
    func expiry(at now: NIODeadline) -> Expiry? {
        guard let deadline, now >= deadline else { return nil }
        switch phase {
        case .idle: return .closeQuietly
        case .head, .body: return .requestTimeout
        case .discarding: return .close
        }
    }
}
