import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyRouting
import Synchronization

/// The circuit breaker of every target (`provider/upstream-model`), shared by the planner, the
/// failover walk, `/metrics` and the admin endpoint.
///
/// A thin lock around one ``CircuitBreakerStateMachine`` per target: all the decisions live in the
/// state machine. A target never seen is closed; a target is listed in ``snapshot()`` from its
/// first permit or outcome on, and stays listed, so its gauge returns to 0 rather than vanishing.
///
/// ```swift
/// let breakers = CircuitBreakerBoard(settings: config.resilience.breaker)
/// switch breakers.permit("openai/gpt-4o", at: .now) {
/// case .allowed, .probe:
///     // send; then recordSuccess, recordFailure, or (for a probe without a verdict) recordAbandoned
///     breakers.recordSuccess("openai/gpt-4o", at: .now)
/// case .rejected:
///     break  // next target
/// }
/// ```
///
/// - warning: A `.probe` permission must be reported (success, failure or abandoned), or the
///   target stays half-open with its probe slot taken and gets no traffic.
public final class CircuitBreakerBoard: Sendable {
    private let settings: BreakerSettings
    private let breakers = Mutex<[String: CircuitBreakerStateMachine]>([:])

    /// A board on which every target is closed.
    ///
    /// - Parameters:
    ///   - settings: `resilience.breaker`, applied to every target.
    public init(settings: BreakerSettings) {
        self.settings = settings
    }

    /// Whether a planner should keep `key` in a plan at `now`; see
    /// ``CircuitBreakerStateMachine/isAvailable(at:)``.
    public func isAvailable(_ key: String, at now: ContinuousClock.Instant) -> Bool {
        breakers.withLock { $0[key]?.isAvailable(at: now) ?? true }
    }

    /// Whether each of `keys`, in order, is available at `now`, read under one lock so a plan sees
    /// one consistent board.
    public func availability(of keys: [String], at now: ContinuousClock.Instant) -> [Bool] {
        breakers.withLock { breakers in keys.map { breakers[$0]?.isAvailable(at: now) ?? true } }
    }

    /// The state of `key`; closed when never seen.
    public func state(of key: String) -> CircuitBreakerStateMachine.State {
        breakers.withLock { $0[key]?.state ?? .closed(consecutiveFailures: 0) }
    }

    /// Asks to send a request to `key` at `now`; see ``CircuitBreakerStateMachine/permit(at:)``.
    public func permit(_ key: String, at now: ContinuousClock.Instant) -> CircuitBreakerStateMachine.Permission {
        update(key) { $0.permit(at: now) }
    }

    /// Records that a request to `key` succeeded at `now`.
    public func recordSuccess(_ key: String, at now: ContinuousClock.Instant) {
        update(key) { $0.recordSuccess(at: now) }
    }

    /// Records that a request to `key` failed at `now` in a way that says something about the
    /// target's health.
    public func recordFailure(_ key: String, at now: ContinuousClock.Instant) {
        update(key) { $0.recordFailure(at: now) }
    }

    /// Records that the probe sent to `key` ended without a verdict, freeing the probe slot.
    public func recordAbandoned(_ key: String) {
        update(key) { $0.recordAbandoned() }
    }

    /// Every target seen so far, sorted by key, with its state and `multiprodigy_breaker_state`
    /// gauge value (0 closed, 1 half-open, 2 open).
    public func snapshot() -> [(key: String, state: CircuitBreakerStateMachine.State, gauge: Int)] {
        let breakers = breakers.withLock { $0 }
        return breakers.sorted { $0.key < $1.key }.map { (key: $0.key, state: $0.value.state, gauge: $0.value.gaugeValue) }
    }

    private func update<Result: Sendable>(_ key: String, _ body: (inout CircuitBreakerStateMachine) -> Result) -> Result {
        let settings = settings
        return breakers.withLock { breakers in
            body(&breakers[key, default: CircuitBreakerStateMachine(settings: settings)])
        }
    }
}
