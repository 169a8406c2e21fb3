import Tracing

/// Carries W3C trace-context headers (`traceparent`, `tracestate`) between a tracer and the
/// gateway: out of a client's request, into an upstream call's ``UpstreamTraceHeaders``.
///
/// Only these headers are handed to the tracer, never a request's whole head: a tracer that logs a
/// carrier it cannot parse must not see an `Authorization` header.
///
/// ```swift
/// var carrier: [String: String] = ["traceparent": value]
/// tracer.extract(carrier, into: &context, using: TraceContextCarrier())
/// ```
public struct TraceContextCarrier: Injector, Extractor {
    /// The header values by lowercase name.
    public typealias Carrier = [String: String]

    /// Creates a carrier.
    public init() {}

    /// Keeps `value` under `key`, lowercased.
    public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key.lowercased()] = value
    }

    /// The value under `key`, lowercased.
    public func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key.lowercased()]
    }
}
