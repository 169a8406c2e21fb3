import MultiProdigyPrivacy

/// `resilience.timeouts`.
///
/// - `connect`: opening a connection to an upstream.
/// - `first_byte`: the response head of a streaming call.
/// - `first_token`: the first content chunk of a stream, counted from the start of the attempt.
/// - `stall`: the longest silence between two chunks of a stream.
/// - `total`: the whole call, failovers included; a non-streaming call waits up to this long.
public struct TimeoutSettings: Sendable, Equatable {
    /// `connect` (default 5s).
    public var connect: Duration
    /// `first_byte` (default 30s).
    public var firstByte: Duration
    /// `first_token` (default 60s).
    public var firstToken: Duration
    /// `stall` (default 30s).
    public var stall: Duration
    /// `total` (default 600s).
    public var total: Duration

    /// Creates timeouts with the documented defaults.
    public init(
        connect: Duration = .seconds(5),
        firstByte: Duration = .seconds(30),
        firstToken: Duration = .seconds(60),
        stall: Duration = .seconds(30),
        total: Duration = .seconds(600)
    ) {
        self.connect = connect
        self.firstByte = firstByte
        self.firstToken = firstToken
        self.stall = stall
        self.total = total
    }
}
