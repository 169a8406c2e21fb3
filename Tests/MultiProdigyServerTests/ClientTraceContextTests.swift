import Testing

@testable import MultiProdigyServer

/// Which client trace headers reach the tracer: a valid `traceparent` (with its `tracestate` when
/// that is valid too), nothing otherwise.
@Suite struct ClientTraceContextTests {
    private static let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func aValidTraceparentAndTracestateAreHandedOver() {
        #expect(
            RequestTrace.traceContext(traceparent: Self.parent, tracestate: "congo=t61rcWkgMzE") == [
                "traceparent": Self.parent, "tracestate": "congo=t61rcWkgMzE",
            ]
        )
        #expect(RequestTrace.traceContext(traceparent: Self.parent, tracestate: nil) == ["traceparent": Self.parent])
    }

    @Test func anInvalidTracestateIsDroppedAndTheTraceparentKept() {
        #expect(RequestTrace.traceContext(traceparent: Self.parent, tracestate: "no equals sign") == ["traceparent": Self.parent])
    }

    @Test(arguments: [
        "", "garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01", "Bearer sk-secret",
    ])
    func anInvalidTraceparentStartsATraceOfItsOwn(_ traceparent: String) {
        #expect(RequestTrace.traceContext(traceparent: traceparent, tracestate: "a=b") == nil)
    }

    @Test func noTraceparentNoParent() {
        #expect(RequestTrace.traceContext(traceparent: nil, tracestate: "a=b") == nil)
    }
}
