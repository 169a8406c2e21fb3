import MultiProdigyCore

/// An answer accepted from an upstream, with the tokens it used.
///
/// The executor learns how long a route's answers run from the counts upstreams report (see
/// ``LatencyTracker/recordAnswerLength(_:route:)``); estimated counts teach it nothing.
public protocol TokenCountedAnswer: Sendable {
    /// The tokens the answer used: the upstream's report, or an estimate
    /// (``TokenUsage/isEstimated``) when it reported none.
    var usage: TokenUsage { get }
}
