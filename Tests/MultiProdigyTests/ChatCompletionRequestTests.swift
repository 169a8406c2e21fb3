import NIOCore
import Testing

@testable import MultiProdigy

@Suite struct ChatCompletionRequestTests {
    @Test func streamingFlagsAndModelAreRead() throws {
        let request = try ChatCompletionRequest.parse(
            ByteBuffer(
                string:
                    #"{"model":"auto","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}]}"#
            )
        )
        #expect(request.model == "auto")
        #expect(request.isStreaming)
        #expect(request.includeUsage)
        #expect(request.messageCount == 2)
    }

    @Test func nullOptionalFieldsAreAccepted() throws {
        let request = try ChatCompletionRequest.parse(
            ByteBuffer(
                string:
                    #"{"model":"m","messages":[{"role":"user","content":"u"}],"temperature":null,"stream":null,"stream_options":null,"max_tokens":null}"#
            )
        )
        #expect(!request.isStreaming)
        #expect(!request.includeUsage)
    }

    @Test func upstreamBodyRewritesModelAndDropsTheExtension() throws {
        let request = try ChatCompletionRequest.parse(
            ByteBuffer(string: #"{"multiprodigy":{"policy":"cost"},"model":"auto","messages":[{"role":"user","content":"u"}],"x":1}"#)
        )
        #expect(
            String(buffer: request.upstreamBody(model: "gpt-4o-mini"))
                == #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"u"}],"x":1}"#
        )
    }

    @Test(arguments: [
        (#"{"model":"m","messages":[{"role":"user"}],"n":2.5}"#, "n"),
        (#"{"model":"m","messages":[{"role":"user"}],"tools":{}}"#, "tools"),
        (#"{"model":"m","messages":[{"role":"user"}],"stop":5}"#, "stop"),
        (#"{"model":"m","messages":[{"role":"user"}],"tool_choice":7}"#, "tool_choice"),
        (#"{"model":"m","messages":[{"role":"user"}],"multiprodigy":"cost"}"#, "multiprodigy"),
        (#"{"model":"m","messages":[{"role":5}]}"#, "messages[0].role"),
        (#"{"model":"","messages":[{"role":"user"}]}"#, "model"),
        (#"{"model":"m","messages":[{"role":"user"}],"n":0}"#, "n"),
    ])
    func wrongTypesNameTheParam(body: String, param: String) {
        #expect {
            _ = try ChatCompletionRequest.parse(ByteBuffer(string: body))
        } throws: { error in
            let error = error as? GatewayError
            return error?.param == param && error?.status == .badRequest && error?.type == "invalid_request_error"
        }
    }
}
