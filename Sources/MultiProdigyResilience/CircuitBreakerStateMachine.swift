import MultiProdigyConfig
import MultiProdigyPrivacy
import MultiProdigyRouting

/// Decides, for one target (`provider/upstream-model`), whether a request may be sent to it, from
/// the outcomes of the requests sent so far.
///
/// The breaker starts closed and counts consecutive failures; at `failureThreshold` it opens and
/// the target gets no traffic (the planner moves to fallbacks) for `cooldown`. After the cooldown
/// exactly one request is let through as a probe (half-open): its success closes the breaker, its
/// failure opens it again for a fresh cooldown.
///
/// | State | `permit` | `recordSuccess` | `recordFailure` | `recordAbandoned` |
/// |---|---|---|---|---|
/// | closed(n) | allowed | closed(0) | closed(n+1), or open at the threshold | — |
/// | open, before `until` | rejected(until) | closed(0) | — (not extended) | — |
/// | open, at or after `until` | probe; half-open(in flight) | closed(0) | — (not extended) | — |
/// | half-open(in flight) | rejected(nil) | closed(0) | open for a fresh cooldown | half-open(free) |
/// | half-open(free) | probe; half-open(in flight) | closed(0) | open for a fresh cooldown | — |
///
/// The cooldown is fixed, not backed off: a target that recovers gets its traffic back at the
/// first probe after recovery, so at most one cooldown (10 s by default) plus the wait for the next
/// request — well inside the 30 s the gateway promises for a flapping primary. One probe per
/// cooldown per target is cheap enough that backing off would buy little and cost that promise.
///
/// The machine is a value type with no clock of its own: callers pass instants in, which keeps it
/// exhaustively testable. ``CircuitBreakerBoard`` holds one per target behind a lock.
///
/// ```swift
/// var breaker = CircuitBreakerStateMachine(settings: BreakerSettings(failureThreshold: 1))
/// let start = ContinuousClock.now
/// breaker.recordFailure(at: start)                              // opens for 10 s
/// breaker.permit(at: start + .seconds(5))                       // .rejected(until: start + 10 s)
/// breaker.permit(at: start + .seconds(10))                      // .probe
/// breaker.recordSuccess(at: start + .seconds(11))               // closed again
/// ```
///
/// - warning: Every `.probe` permission must end in exactly one of ``recordSuccess(at:)``,
///   ``recordFailure(at:)`` or ``recordAbandoned()``. A probe that is never reported keeps the
///   breaker half-open with its one probe slot taken, and the target gets no traffic at all.
public struct CircuitBreakerStateMachine: Sendable, Equatable {
    /// Where the breaker is.
    public enum State: Sendable, Equatable {
        /// Traffic flows; `consecutiveFailures` failures in a row so far (below the threshold).
        case closed(consecutiveFailures: Int)
        /// No traffic: the breaker opened at `since` and lets a probe through from `until` on.
        case open(since: ContinuousClock.Instant, until: ContinuousClock.Instant)
        /// The cooldown is over; one probe decides. While `probeInFlight`, everything else is
        /// turned away.
        case halfOpen(probeInFlight: Bool)
    }

    /// Whether a request may go to the target.
    public enum Permission: Sendable, Equatable {
        /// Send it: the breaker is closed.
        case allowed
        /// Send it as the one probe of a half-open breaker; report its outcome.
        case probe
        /// Don't send it. `until` is when a probe will be let through, or nil while a probe is
        /// already in flight and its outcome decides.
        case rejected(until: ContinuousClock.Instant?)
    }

    /// Current state.
    public private(set) var state: State = .closed(consecutiveFailures: 0)
    /// Consecutive failures that open the breaker; at least 1, whatever the settings say.
    private let failureThreshold: Int
    /// How long the breaker stays open before it lets a probe through.
    private let cooldown: Duration

    /// A closed breaker.
    ///
    /// - Parameters:
    ///   - settings: `resilience.breaker`: `failure_threshold` (Int, default 3) and `cooldown`
    ///     (Duration, default 10 s). A threshold below 1 counts as 1.
    public init(settings: BreakerSettings) {
        self.failureThreshold = max(1, settings.failureThreshold)
        self.cooldown = settings.cooldown
    }

    /// Whether a planner should keep the target in a plan at `now`: the breaker is closed, or its
    /// cooldown is over and the probe slot is free. Changes nothing; ``permit(at:)`` takes the
    /// slot when the request is actually sent.
    public func isAvailable(at now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed: true
        case .open(_, let until): now >= until
        case .halfOpen(let probeInFlight): !probeInFlight
        }
    }

    /// Asks to send a request at `now`; the first caller after the cooldown gets the probe, and
    /// every other caller is turned away until the probe has been reported.
    public mutating func permit(at now: ContinuousClock.Instant) -> Permission {
        switch state {
        case .closed:
            return .allowed
        case .open(_, let until):
            guard now >= until else { return .rejected(until: until) }
            state = .halfOpen(probeInFlight: true)
            return .probe
        case .halfOpen(probeInFlight: true):
            return .rejected(until: nil)
        case .halfOpen(probeInFlight: false):
            state = .halfOpen(probeInFlight: true)
            return .probe
        }
    }

    /// Records a success at `now`: the target answered, so the breaker closes from any state and
    /// the failure count starts again. A straggler admitted before the breaker opened counts too:
    /// an answer is proof of health whoever asked.
    public mutating func recordSuccess(at now: ContinuousClock.Instant) {
        state = .closed(consecutiveFailures: 0)
    }

    /// Records a failure at `now` (one that says something about the target's health: a timeout,
    /// a 5xx, a refused connection).
    ///
    /// While open, a failure changes nothing: it comes from a straggler admitted before the
    /// breaker opened, it reports the outage the breaker already knows about, and extending the
    /// cooldown for it would only delay the probe that finds the recovery. While half-open, any
    /// failure (the probe's or a late straggler's) is fresh evidence and opens the breaker again.
    public mutating func recordFailure(at now: ContinuousClock.Instant) {
        switch state {
        case .closed(let failures):
            let count = failures + 1
            state = count >= failureThreshold ? .open(since: now, until: now + cooldown) : .closed(consecutiveFailures: count)
        case .open:
            break
        case .halfOpen:
            state = .open(since: now, until: now + cooldown)
        }
    }

    /// Records that a probe ended without a verdict (the client went away, or the target answered
    /// with an error about the request rather than about itself): the slot is freed so the next
    /// request probes. No effect in any other state.
    ///
    /// Call it only for an attempt that was permitted `.probe`; other attempts that end without a
    /// verdict need not report anything.
    public mutating func recordAbandoned() {
        guard case .halfOpen(probeInFlight: true) = state else { return }
        state = .halfOpen(probeInFlight: false)
    }

    /// The `multiprodigy_breaker_state` gauge value: 0 closed, 1 half-open, 2 open. An open
    /// breaker whose cooldown is over stays 2 until a request takes the probe.
    public var gaugeValue: Int { state.gaugeValue }

    /// The state's name for the admin endpoint and logs: `closed`, `half_open` or `open`.
    public var name: String { state.name }
}

extension CircuitBreakerStateMachine.State {
    /// The `multiprodigy_breaker_state` gauge value: 0 closed, 1 half-open, 2 open.
    public var gaugeValue: Int {
        switch self {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        }
    }

    /// The state's name: `closed`, `half_open` or `open`.
    public var name: String {
        switch self {
        case .closed: "closed"
        case .halfOpen: "half_open"
        case .open: "open"
        }
    }
}
