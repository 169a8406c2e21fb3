/// Sleeping until a deadline that is usually cancelled long before it comes (a stream's stall
/// watch, a body's time budget), in slices of at most ``slice``.
///
/// `Task.sleep` hands the runtime's global executor a timer for the whole interval, and a
/// cancelled sleep's timer and job stay queued until that interval ends: one timer of a few hundred
/// bytes per request for up to `timeouts.total` (600 s by default), which at thousands of
/// requests a second is gigabytes. Slices bound what a cancelled sleep leaves behind to one slice.
package enum SlicedSleep {
    /// The longest single sleep.
    package static let slice: Duration = .seconds(1)

    /// Sleeps until `deadline` (or returns at once when it has passed).
    ///
    /// - Throws: `CancellationError` when the task is cancelled.
    package static func until(_ deadline: ContinuousClock.Instant) async throws {
        while true {
            let now = ContinuousClock.now
            guard now < deadline else { return }
            try await Task.sleep(until: min(deadline, now.advanced(by: slice)), clock: .continuous)
        }
    }

    /// Sleeps for `duration`, in slices.
    ///
    /// - Throws: `CancellationError` when the task is cancelled.
    package static func `for`(_ duration: Duration) async throws {
        try await until(ContinuousClock.now.advanced(by: duration))
    }
}
