import HTTPTypes
import NIOCore
import Testing

@testable import MultiProdigyCore
@testable import MultiProdigyResilience

/// Which upstream 400s refuse a request for asking for a stream: those are asked again without
/// streaming; every other 400 is the client's.
@Suite struct StreamRefusalTests {
    @Test(arguments: [
        (
            400,
            #"{"error":{"message":"Your organization must be verified to stream this model.","type":"invalid_request_error","param":"stream","code":"unsupported_value"}}"#,
            true
        ),
        (400, #"{"error":{"message":"Streaming is not supported for this model.","type":"invalid_request_error"}}"#, true),
        (400, #"{"error":{"message":"Unknown parameter","type":"invalid_request_error","param":"stream_options"}}"#, true),
        (400, #"{"error":{"message":"The upstream model rejected temperature 3.","type":"invalid_request_error"}}"#, false),
        (400, #"{"error":{"message":"temperature must be at most 2","type":"invalid_request_error","param":"temperature"}}"#, false),
        (500, #"{"error":{"message":"streaming failed","type":"server_error"}}"#, false),
    ])
    func aRefusalToStreamIsToldFromOther400s(status: Int, body: String, refuses: Bool) {
        let failure = ProviderError.upstreamStatus(HTTPResponse.Status(code: status), body: ByteBuffer(string: body), provider: "upstream")
        #expect(FailoverExecutor.refusesToStream(failure) == refuses, "\(failure.message)")
    }
}
