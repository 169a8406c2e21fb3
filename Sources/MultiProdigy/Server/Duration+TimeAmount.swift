import NIOCore

extension Duration {
    /// This duration as SwiftNIO's `TimeAmount`.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension ContinuousClock.Instant {
    /// The same instant as SwiftNIO's `NIODeadline`.
    var nioDeadline: NIODeadline {
        .now() + ContinuousClock.now.duration(to: self).timeAmount
    }
}
