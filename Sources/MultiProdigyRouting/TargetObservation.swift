/// What the gateway has measured about one target, as read for one plan.
public struct TargetObservation: Sendable, Equatable {
    /// Smoothed time to first token of streamed answers, in seconds.
    public var firstTokenSeconds: Double?
    /// Smoothed total time of non-streamed answers, in seconds.
    public var totalSeconds: Double?
    /// Requests in flight to it right now.
    public var inFlight: Int
    /// When it was last measured.
    public var lastObserved: ContinuousClock.Instant?

    /// Creates an observation; the default is "never measured, idle".
    public init(
        firstTokenSeconds: Double? = nil,
        totalSeconds: Double? = nil,
        inFlight: Int = 0,
        lastObserved: ContinuousClock.Instant? = nil
    ) {
        self.firstTokenSeconds = firstTokenSeconds
        self.totalSeconds = totalSeconds
        self.inFlight = inFlight
        self.lastObserved = lastObserved
    }

    /// Nothing measured, nothing in flight.
    public static let unobserved = TargetObservation()
}
