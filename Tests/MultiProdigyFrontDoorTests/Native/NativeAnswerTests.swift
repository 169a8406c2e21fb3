import MultiProdigyCore
import MultiProdigyJSON
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct NativeAnswerTests {
    private typealias Fixture = NativeStreamFixture

    /// An Anthropic `Message` (Messages API reference) that read 2048 prompt tokens from the cache
    /// and wrote 100 to it, with a thinking block, text and a tool call.
    private static let anthropicMessage =
        #"{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"thinking","thinking":"Weather needs a tool.","signature":"EqQBCgIYAhIM"},{"type":"text","text":"Let me check that."},{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{"location":"San Francisco, CA"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":100,"cache_read_input_tokens":2048,"output_tokens":89,"service_tier":"standard"}}"#

    /// An OpenAI `Response` (Responses API reference) with reasoning, text and a function call, that
    /// read 12 prompt tokens from the cache and spent 4 output tokens reasoning.
    private static let response =
        #"{"id":"resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b","object":"response","created_at":1741476542,"status":"completed","error":null,"incomplete_details":null,"model":"gpt-4.1-2025-04-14","output":[{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Think."}]},{"type":"message","id":"msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b","status":"completed","role":"assistant","content":[{"type":"output_text","text":"In a peaceful grove","annotations":[]},{"type":"refusal","refusal":"No."}]},{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}","status":"completed"}],"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":12},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":4},"total_tokens":123}}"#

    @Test(arguments: [
        (NativeAPI.messages, anthropicMessage, Fixture.usage(prompt: 2620, completion: 89, cached: 2048, cacheWrites: 100)),
        (.messages, #"{"type":"message","usage":{"input_tokens":12,"output_tokens":3}}"#, Fixture.usage(prompt: 12, completion: 3)),
        (.messages, #"{"type":"message","usage":{"output_tokens":3}}"#, Fixture.usage(prompt: 0, completion: 3)),
        (.responses, response, Fixture.usage(prompt: 36, completion: 87, cached: 12, reasoning: 4)),
        (
            .responses, #"{"object":"response","usage":{"input_tokens":36,"output_tokens":87,"total_tokens":123}}"#,
            Fixture.usage(prompt: 36, completion: 87)
        ),
    ])
    func usageOfAnAnswer(api: NativeAPI, body: String, expected: TokenUsage) {
        #expect(NativeAnswer.usage(of: ByteBuffer(string: body), api: api) == expected)
    }

    @Test(arguments: [
        (NativeAPI.messages, #"{"type":"message","content":[]}"#),
        (.messages, #"{"type":"message","usage":null}"#),
        (.messages, #"{"type":"message","usage":{"service_tier":"standard"}}"#),
        (.messages, "not json"),
        (.responses, #"{"object":"response","usage":null}"#),
        (.responses, #"{"object":"response","usage":{"prompt_tokens":3,"completion_tokens":4}}"#),
        (.responses, "[]"),
        (.messagesCountTokens, #"{"input_tokens":2095}"#),
        (.messagesCountTokens, #"{"usage":{"input_tokens":2095,"output_tokens":1}}"#),
    ])
    func answersReportingNoUsageHaveNone(api: NativeAPI, body: String) {
        #expect(NativeAnswer.usage(of: ByteBuffer(string: body), api: api) == nil)
    }

    @Test func anthropicAnswerGetsTheTargetsNameAndItsCostInItsUsage() {
        let annotated = NativeAnswer.annotated(
            ByteBuffer(string: Self.anthropicMessage),
            api: .messages,
            modelName: "claude",
            costUSD: ByteBuffer(string: "0.0123")
        )
        let expected = Self.anthropicMessage
            .replacing(#""model":"claude-sonnet-4-5-20250929""#, with: #""model":"claude""#)
            .replacing(#""service_tier":"standard"}"#, with: #""service_tier":"standard","cost_usd":0.0123}"#)
        #expect(String(buffer: annotated) == expected)
    }

    @Test func responsesAnswerGetsTheTargetsNameAndItsCostInItsUsage() {
        let annotated = NativeAnswer.annotated(
            ByteBuffer(string: Self.response),
            api: .responses,
            modelName: "gpt \"fast\"",
            costUSD: ByteBuffer(string: "2")
        )
        let expected = Self.response
            .replacing(#""model":"gpt-4.1-2025-04-14""#, with: #""model":"gpt \"fast\"""#)
            .replacing(#""total_tokens":123}"#, with: #""total_tokens":123,"cost_usd":2}"#)
        #expect(String(buffer: annotated) == expected)
    }

    @Test(arguments: [
        // No cost: only the model.
        (
            NativeAPI.messages, #"{"model":"claude-x","usage":{"output_tokens":1}}"#, nil as String?,
            #"{"model":"m","usage":{"output_tokens":1}}"#
        ),
        // No usage object: nowhere to put the cost.
        (.responses, #"{"model":"gpt-x","usage":null}"#, "0.5", #"{"model":"m","usage":null}"#),
        // Whitespace between members is dropped, inside them kept.
        (.responses, #"{ "id": "resp_1", "model": "gpt-x" }"#, nil, #"{"id": "resp_1","model": "m"}"#),
        // Not an object: unchanged.
        (.messages, "[1,2]", "0.5", "[1,2]"),
        (.responses, "upstream said no", "0.5", "upstream said no"),
        // Token counting names no model and has no usage: unchanged.
        (.messagesCountTokens, #"{"input_tokens":2095}"#, "0.5", #"{"input_tokens":2095}"#),
    ])
    func annotation(api: NativeAPI, body: String, cost: String?, expected: String) {
        let annotated = NativeAnswer.annotated(
            ByteBuffer(string: body),
            api: api,
            modelName: "m",
            costUSD: cost.map { ByteBuffer(string: $0) }
        )
        #expect(String(buffer: annotated) == expected)
    }

    @Test(arguments: [
        // "Weather needs a tool." 21 + "Let me check that." 18 + `{"location":"San Francisco, CA"}` 32.
        (NativeAPI.messages, anthropicMessage, 71),
        // "Think." 6 + "In a peaceful grove" 19 + "No." 3 + `{"city":"Paris"}` 16.
        (.responses, response, 44),
        // Escapes and non-ASCII letters count as one character each.
        (.messages, #"{"content":[{"type":"text","text":"a\nb\u00e9 ×"}]}"#, 6),
        (.responses, #"{"output":[{"type":"custom_tool_call","input":"ls -l"}]}"#, 5),
        (.responses, #"{"output":[]}"#, 0),
        (.messages, "not json", 0),
        (.messagesCountTokens, #"{"input_tokens":2095}"#, 0),
    ])
    func outputTextCountsTheAnswersCharacters(api: NativeAPI, body: String, expected: Int) {
        #expect(NativeAnswer.outputText(of: ByteBuffer(string: body), api: api) == expected)
    }

    @Test func aResponsesAnswerCanTakeTheGatewaysIDAndAMessageKeepsItsOwn() throws {
        let response = ByteBuffer(string: #"{"id":"resp_1","object":"response","model":"gpt-5","output":[]}"#)
        let renamed = NativeAnswer.annotated(response, api: .responses, modelName: "gpt", costUSD: nil, responseID: "resp_gateway")
        #expect(String(buffer: renamed) == #"{"id":"resp_gateway","object":"response","model":"gpt","output":[]}"#)
        let message = ByteBuffer(string: #"{"id":"msg_1","type":"message","model":"claude-x"}"#)
        let kept = NativeAnswer.annotated(message, api: .messages, modelName: "claude", costUSD: nil, responseID: "resp_gateway")
        #expect(String(buffer: kept) == #"{"id":"msg_1","type":"message","model":"claude"}"#)
    }
}
