import NIOCore
import Testing

@testable import MultiProdigyServer

/// What a request's span reads from a JSON chat answer: its choices' finish reasons, without a tree.
@Suite struct RequestTraceTests {
    @Test func finishReasonsAreEveryChoicesOnceInOrder() {
        let body = ByteBuffer(
            string: #"{"id":"x","choices":[{"index":0,"message":{"content":"a"},"finish_reason":"stop"},"#
                + #"{"index":1,"finish_reason":"length"},{"index":2,"finish_reason":"stop"},{"index":3,"finish_reason":null}]}"#
        )
        #expect(RequestTrace.finishReasons(in: body) == ["stop", "length"])
    }

    @Test func anAnswerWithoutChoicesHasNone() {
        #expect(RequestTrace.finishReasons(in: ByteBuffer(string: #"{"object":"list","data":[]}"#)).isEmpty)
        #expect(RequestTrace.finishReasons(in: ByteBuffer(string: "not json")).isEmpty)
    }
}
