/// An upstream connection that closed after a long silence: no byte of its answer's body since the
/// request was written or since the body's last byte (a head may have come). A silent target, not
/// a reset, so it counts as a timeout (``ProviderError/classify(_:)``) and is not retried on the
/// same target.
package struct UpstreamSilentCloseError: Error, Sendable {
    /// How long a request must have waited without a byte for its connection's close to count as
    /// silence rather than a reset: longer than a reused connection's close races with a request
    /// (milliseconds), and short enough that a target that goes quiet and then hangs up is
    /// recognised (documented in the README's failover table).
    package static let threshold: Duration = .seconds(2)

    /// How long the request waited before the connection closed.
    package var silence: Duration

    /// The error for a request that waited `silence`.
    package init(silence: Duration) {
        self.silence = silence
    }
}
