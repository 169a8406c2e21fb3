import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import Synchronization

/// Live latency estimates and in-flight counts per target, and answer lengths per route, fed by
/// every attempt and read by the planner.
///
/// Latency is an exponentially weighted moving average: of time to first token for streams, of
/// total time otherwise. A measurement arriving after a quiet spell (``staleAfter``) weighs much
/// more, so a target re-measured by exploration sheds an out-of-date estimate at once.
///
/// ```swift
/// let tracker = LatencyTracker()
/// tracker.begin("ollama/llama3.2")
/// tracker.record(.total, .milliseconds(420), for: "ollama/llama3.2")
/// tracker.end("ollama/llama3.2")
/// ```
public final class LatencyTracker: Sendable {
    /// What a latency measurement measured.
    public enum Measurement: Sendable {
        /// Time from sending the request to the first content chunk of a stream.
        case firstToken
        /// Time from sending the request to the whole non-streamed answer.
        case total
    }

    /// Weight of a new measurement in the moving average.
    public static let smoothing = 0.3
    /// Weight of a measurement that follows a quiet spell of ``staleAfter``.
    public static let staleSmoothing = 0.8
    /// How old an estimate must be before the planner re-measures it and a new sample replaces most
    /// of it.
    public static let staleAfter: Duration = .seconds(10)

    /// What a failed attempt counts as, at least: a target that fails fast must not look fast.
    public static let failurePenalty: Duration = .seconds(5)

    private let state = Mutex<[String: TargetObservation]>([:])
    /// Smoothed completion tokens per answer, by route (or model asked for directly).
    private let answerLengths = Mutex<[String: Double]>([:])

    /// An empty tracker: every target is unmeasured and idle.
    public init() {}

    /// The observations of `keys`, in order, read under one lock.
    public func observations(for keys: [String]) -> [TargetObservation] {
        state.withLock { state in keys.map { state[$0] ?? .unobserved } }
    }

    /// The observation of `key`.
    public func observation(for key: String) -> TargetObservation {
        state.withLock { $0[key] ?? .unobserved }
    }

    /// Every target's observation, for metrics.
    public func snapshot() -> [String: TargetObservation] {
        state.withLock { $0 }
    }

    /// A request to `key` started.
    public func begin(_ key: String) {
        state.withLock { $0[key, default: .unobserved].inFlight += 1 }
    }

    /// A request to `key` ended, however it ended.
    public func end(_ key: String) {
        state.withLock { state in
            let count = state[key, default: .unobserved].inFlight
            state[key, default: .unobserved].inFlight = max(0, count - 1)
        }
    }

    /// Counts a request to `key` in flight until the returned lease ends or is released.
    public func lease(_ key: String) -> InFlightLease {
        begin(key)
        return InFlightLease(tracker: self, key: key)
    }

    /// Adds a latency measurement of `key`.
    public func record(_ measurement: Measurement, _ duration: Duration, for key: String, at now: ContinuousClock.Instant = .now) {
        let seconds = duration.seconds
        state.withLock { state in
            var observation = state[key, default: .unobserved]
            let isStale = observation.lastObserved.map { now - $0 > Self.staleAfter } ?? true
            let weight = isStale ? Self.staleSmoothing : Self.smoothing
            switch measurement {
            case .firstToken: observation.firstTokenSeconds = Self.blend(observation.firstTokenSeconds, seconds, weight: weight)
            case .total: observation.totalSeconds = Self.blend(observation.totalSeconds, seconds, weight: weight)
            }
            observation.lastObserved = now
            state[key] = observation
        }
    }

    /// Adds a failed attempt of `key` as a measurement of at least ``failurePenalty``, so the latency
    /// policy moves off a target that errors or times out until it is re-measured.
    public func recordFailure(_ measurement: Measurement, after duration: Duration, for key: String, at now: ContinuousClock.Instant = .now)
    {
        record(measurement, max(duration, Self.failurePenalty), for: key, at: now)
    }

    /// Adds the completion-token count of one answer to a request for `route` (a route, or a model
    /// asked for directly): what the planner prices the next request without `max_tokens` by.
    public func recordAnswerLength(_ tokens: Int, route: String) {
        answerLengths.withLock { lengths in
            lengths[route] = Self.blend(lengths[route], Double(max(0, tokens)), weight: Self.smoothing)
        }
    }

    /// The smoothed answer length of requests for `route`; nil before the first answer.
    public func answerLength(route: String) -> Double? {
        answerLengths.withLock { $0[route] }
    }

    private static func blend(_ previous: Double?, _ sample: Double, weight: Double) -> Double {
        guard let previous else { return sample }
        return previous + weight * (sample - previous)
    }
}
