import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import Synchronization

/// One request counted in flight to a target until ``end()``, or until the lease is released
/// unended (a response body that never ran, say).
public final class InFlightLease: Sendable {
    private let tracker: LatencyTracker
    private let key: String
    private let ended = Atomic<Bool>(false)

    init(tracker: LatencyTracker, key: String) {
        self.tracker = tracker
        self.key = key
    }

    /// Stops counting the request; later calls do nothing.
    public func end() {
        guard !ended.exchange(true, ordering: .relaxed) else { return }
        tracker.end(key)
    }

    deinit {
        end()
    }
}
