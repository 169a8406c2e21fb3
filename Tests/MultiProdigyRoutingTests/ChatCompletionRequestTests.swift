import NIOCore
import Testing

@testable import MultiProdigyRouting
@testable import MultiProdigyCore

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

    @Test(arguments: [
        #""max_tokens":0"#, #""max_tokens":-5"#, #""max_completion_tokens":-99999999999999999999999"#,
    ])
    func outputLimitsBelowOneAreRejected(_ field: String) {
        do {
            _ = try ChatCompletionRequest.parse(ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":"u"}],\#(field)}"#))
            Issue.record("\(field) was accepted")
        } catch {
            #expect(error.code == "integer_below_min_value")
            #expect(error.param == (field.contains("completion") ? "max_completion_tokens" : "max_tokens"))
        }
    }

    @Test func aHugeOutputLimitIsAcceptedAndReadAsHuge() throws {
        let request = try ChatCompletionRequest.parse(
            ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":"u"}],"max_tokens":99999999999999999999999}"#)
        )
        let routing = RoutingRequest(chat: request, overrides: RoutingOverrides(), detectsPII: false)
        #expect(routing.maxOutputTokens == .max)
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
