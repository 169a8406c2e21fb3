import NIOCore

extension Duration {
    /// This duration as SwiftNIO's `TimeAmount`.
    package var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .nanoseconds(seconds < 0 ? .min : .max) }
        let (total, sumOverflow) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return .nanoseconds(sumOverflow ? .max : total)
    }
}

extension ContinuousClock.Instant {
    /// The same instant as SwiftNIO's `NIODeadline`.
    package var nioDeadline: NIODeadline {
        let remaining = ContinuousClock.now.duration(to: self).timeAmount
        // NIODeadline arithmetic traps on overflow; a deadline decades away is "never".
        guard remaining.nanoseconds < Int64.max / 4 else { return .distantFuture }
        return .now() + remaining
    }
}
