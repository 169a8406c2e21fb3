import NIOCore

/// The W3C trace-context headers an upstream call carries: the `traceparent` (and `tracestate`) of
/// the attempt span that makes it.
///
/// The failover executor sets ``current`` around each attempt when tracing is on; the gateway's
/// upstream client adds the headers to the request it writes. A custom provider that makes its own
/// HTTP calls reads ``current`` the same way. Nil when tracing is off: requests are then written
/// exactly as without tracing.
///
/// ```swift
/// if let trace = UpstreamTraceHeaders.current {
///     request.headers.add(name: "traceparent", value: trace.traceparent)
/// }
/// ```
public struct UpstreamTraceHeaders: Sendable, Equatable {
    /// `traceparent`: version, trace id, the attempt span's id, flags.
    public var traceparent: String
    /// `tracestate`, when the trace has one (a client's vendor entries).
    public var tracestate: String?

    /// The headers of the attempt running in the current task, if it is traced.
    @TaskLocal public static var current: UpstreamTraceHeaders?

    /// Creates the headers.
    public init(traceparent: String, tracestate: String? = nil) {
        self.traceparent = traceparent
        self.tracestate = tracestate
    }

    /// Writes the headers as HTTP/1.1 header lines, leaving out a value that could not be sent
    /// verbatim (a line break or NUL).
    public func write(into buffer: inout ByteBuffer) {
        for (name, value) in [("traceparent", traceparent), ("tracestate", tracestate)] {
            guard let value, !value.isEmpty, !value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else { continue }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
    }
}
