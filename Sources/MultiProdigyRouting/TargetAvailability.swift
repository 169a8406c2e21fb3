/// Says which targets may take traffic right now: the circuit breakers, seen from the planner.
public protocol TargetAvailability: Sendable {
    /// For each key ("provider/upstream-model"), in order, whether it may be planned at `now`.
    func availability(of keys: [String], at now: ContinuousClock.Instant) -> [Bool]
}
