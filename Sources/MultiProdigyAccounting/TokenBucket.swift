import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyResilience
import MultiProdigyRouting

/// A rate limit as a bucket that refills continuously: `capacity` units a minute, at most
/// `capacity` saved up.
///
/// A whole-unit take (a request against requests per minute) needs the whole unit in the bucket. A
/// partial take (a request's expected tokens against tokens per minute) is let in while the bucket
/// holds anything, and later settled with what it really used: the balance may go below zero after
/// a large request, and the next one then waits until it has refilled above zero, so the long-run
/// rate holds and no single request larger than the bucket is refused for ever.
public struct TokenBucket: Sendable, Equatable {
    /// The most the bucket holds, and what it refills per minute.
    public let capacity: Double
    /// What it holds now (negative after a request larger than what was left).
    public private(set) var balance: Double
    private var refilledAt: ContinuousClock.Instant

    /// A full bucket of `perMinute`.
    public init(perMinute: Int, now: ContinuousClock.Instant) {
        self.capacity = Double(max(1, perMinute))
        self.balance = capacity
        self.refilledAt = now
    }

    /// Takes `amount` if the bucket holds it all (`whole`) or anything at all; otherwise says how
    /// long until it will.
    public mutating func take(_ amount: Double, whole: Bool = false, now: ContinuousClock.Instant) -> Duration? {
        refill(now)
        let needed = whole ? min(amount, capacity) : Double.leastNonzeroMagnitude
        guard balance >= needed else { return wait(until: max(needed, min(1, capacity))) }
        balance -= amount
        return nil
    }

    /// Settles a request that used `delta` more (or, negative, less) than it took.
    public mutating func adjust(by delta: Double, now: ContinuousClock.Instant) {
        refill(now)
        balance = min(capacity, balance - delta)
    }

    /// What is left after refilling to `now`, never below zero.
    public mutating func remaining(now: ContinuousClock.Instant) -> Double {
        refill(now)
        return max(0, balance)
    }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        guard now > refilledAt else { return }
        balance = min(capacity, balance + (now - refilledAt).seconds * capacity / 60)
        refilledAt = now
    }

    /// Time until the balance is back to `level`.
    private func wait(until level: Double) -> Duration {
        let seconds = (level - balance) / (capacity / 60)
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }
}
