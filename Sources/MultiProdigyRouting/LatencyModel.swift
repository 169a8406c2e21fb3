import MultiProdigyConfig

/// Predicts a target's latency for one request from what has been measured.
///
/// The base is the moving average that matches the request (time to first token for a stream,
/// total time otherwise), else the configured `latency` prior, else the other average. Load
/// inflates it: each request already in flight adds the base divided by the target's assumed
/// parallelism, ``localParallelism`` for local servers (one GPU queues) and ``cloudParallelism``
/// for cloud APIs.
public enum LatencyModel {
    /// Requests a local server is assumed to serve at full speed at once.
    public static let localParallelism = 2.0
    /// Requests a cloud API is assumed to serve at full speed at once.
    public static let cloudParallelism = 16.0

    /// The predicted latency in seconds, or nil when nothing is known.
    public static func predictedSeconds(
        observation: TargetObservation,
        prior: Duration?,
        locality: Locality,
        isStreaming: Bool
    ) -> Double? {
        let matching = isStreaming ? observation.firstTokenSeconds : observation.totalSeconds
        let other = isStreaming ? observation.totalSeconds : observation.firstTokenSeconds
        guard let base = matching ?? prior?.seconds ?? other else { return nil }
        let parallelism = locality == .local ? localParallelism : cloudParallelism
        return base * (1 + Double(observation.inFlight) / parallelism)
    }
}
