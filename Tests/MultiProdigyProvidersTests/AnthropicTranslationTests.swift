import HTTPTypes
import NIOCore
import Testing

@testable import MultiProdigyJSON
@testable import MultiProdigyProviders
@testable import MultiProdigyCore

/// Pure translation between OpenAI's chat shapes and Anthropic's Messages API, on literal fixtures
/// in Anthropic's documented format.
@Suite struct AnthropicTranslationTests {
    // MARK: Helpers

    /// `value` with every object's keys sorted, so comparisons ignore member order.
    static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let values):
            return .array(values.map(canonical))
        case .object(let object):
            var sorted = JSONObject()
            for member in object.members.sorted(by: { $0.key < $1.key }) { sorted[member.key] = canonical(member.value) }
            return .object(sorted)
        default:
            return value
        }
    }

    static func translate(_ openAI: String, stream: Bool = false, defaultMaxTokens: Int = 4096) throws -> JSONValue {
        try AnthropicRequestTranslator.request(
            from: ByteBuffer(string: openAI),
            model: "claude-sonnet-4-5",
            stream: stream,
            defaultMaxTokens: defaultMaxTokens
        )
    }

    static func expectJSON(_ actual: JSONValue, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let want = try JSONValue.parse(expected)
        #expect(canonical(actual).text == canonical(want).text, sourceLocation: sourceLocation)
    }

    static func rejection(_ openAI: String) -> GatewayError? {
        do {
            _ = try translate(openAI)
            return nil
        } catch {
            return error as? GatewayError
        }
    }

    static func texts(_ events: [ChatStreamEvent]) -> [String] {
        events.map {
            switch $0 {
            case .chunk(let buffer): String(buffer: buffer)
            case .done: "[DONE]"
            }
        }
    }

    static func sse(_ name: String, _ data: String) -> SSEEvent {
        SSEEvent(name: name, data: Array(data.utf8))
    }

    // MARK: Request

    @Test func systemAndDeveloperMessagesBecomeTopLevelSystemAndMaxTokensGetsTheDefault() throws {
        let out = try Self.translate(
            #"""
            {"model":"m","messages":[
              {"role":"system","content":"You are terse."},
              {"role":"developer","content":[{"type":"text","text":"Answer in French."}]},
              {"role":"user","content":"Hi"}]}
            """#,
            defaultMaxTokens: 1234
        )
        try Self.expectJSON(
            out,
            #"""
            {"model":"claude-sonnet-4-5","max_tokens":1234,
             "system":[{"type":"text","text":"You are terse."},{"type":"text","text":"Answer in French."}],
             "messages":[{"role":"user","content":"Hi"}]}
            """#
        )
    }

    @Test func singleSystemMessageIsAStringAndMaxCompletionTokensWins() throws {
        let out = try Self.translate(
            #"""
            {"model":"m","max_tokens":50,"max_completion_tokens":77,"stream":true,
             "messages":[{"role":"system","content":"Be kind."},{"role":"user","content":"Hi"}]}
            """#,
            stream: true
        )
        try Self.expectJSON(
            out,
            #"""
            {"model":"claude-sonnet-4-5","max_tokens":77,"system":"Be kind.",
             "messages":[{"role":"user","content":"Hi"}],"stream":true}
            """#
        )
    }

    @Test func maxTokensIsUsedWhenMaxCompletionTokensIsAbsent() throws {
        let out = try Self.translate(#"{"model":"m","max_tokens":50,"messages":[{"role":"user","content":"Hi"}]}"#)
        #expect(out["max_tokens"] == 50)
    }

    @Test func imagesBecomeBase64AndURLSources() throws {
        let out = try Self.translate(
            #"""
            {"model":"m","messages":[{"role":"user","content":[
              {"type":"text","text":"What is in these?"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg","detail":"high"}}]}]}
            """#
        )
        try Self.expectJSON(
            out["messages"] ?? .null,
            #"""
            [{"role":"user","content":[
              {"type":"text","text":"What is in these?"},
              {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
              {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}]
            """#
        )
    }

    @Test func toolCallingHistoryBecomesToolUseAndMergedToolResults() throws {
        let out = try Self.translate(
            #"""
            {"model":"m","messages":[
              {"role":"user","content":"Weather in SF and NYC?"},
              {"role":"assistant","content":"Let me check.","tool_calls":[
                {"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"San Francisco, CA\"}"}},
                {"id":"toolu_01B","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"New York, NY\"}"}}]},
              {"role":"tool","tool_call_id":"toolu_01A","content":"15 degrees, foggy"},
              {"role":"tool","tool_call_id":"toolu_01B","content":[{"type":"text","text":"22 degrees, sunny"}]},
              {"role":"user","content":"Thanks! Which is warmer?"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Get the current weather",
               "parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}},
               {"type":"function","function":{"name":"now"}}],
             "tool_choice":"required","parallel_tool_calls":false,
             "stop":"\nEND","temperature":0.2,"top_p":0.9,"user":"user-1234","seed":7,"frequency_penalty":0.5}
            """#
        )
        try Self.expectJSON(
            out,
            #"""
            {"model":"claude-sonnet-4-5","max_tokens":4096,
             "messages":[
              {"role":"user","content":"Weather in SF and NYC?"},
              {"role":"assistant","content":[
                {"type":"text","text":"Let me check."},
                {"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{"location":"San Francisco, CA"}},
                {"type":"tool_use","id":"toolu_01B","name":"get_weather","input":{"location":"New York, NY"}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"toolu_01A","content":"15 degrees, foggy"},
                {"type":"tool_result","tool_use_id":"toolu_01B","content":[{"type":"text","text":"22 degrees, sunny"}]},
                {"type":"text","text":"Thanks! Which is warmer?"}]}],
             "tools":[{"name":"get_weather","description":"Get the current weather",
               "input_schema":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}},
               {"name":"now","input_schema":{"type":"object","properties":{}}}],
             "tool_choice":{"type":"any","disable_parallel_tool_use":true},
             "stop_sequences":["\nEND"],"temperature":0.2,"top_p":0.9,"metadata":{"user_id":"user-1234"}}
            """#
        )
    }

    @Test func assistantToolCallWithNullContentAndEmptyArgumentsBecomesOnlyAToolUse() throws {
        let out = try Self.translate(
            #"""
            {"model":"m","messages":[{"role":"user","content":"Time?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"toolu_9","type":"function","function":{"name":"now","arguments":""}}]},
              {"role":"tool","tool_call_id":"toolu_9","content":"12:00"}]}
            """#
        )
        try Self.expectJSON(
            out["messages"] ?? .null,
            #"""
            [{"role":"user","content":"Time?"},
             {"role":"assistant","content":[{"type":"tool_use","id":"toolu_9","name":"now","input":{}}]},
             {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_9","content":"12:00"}]}]
            """#
        )
    }

    @Test func consecutiveSameRoleMessagesAreMerged() throws {
        let out = try Self.translate(
            #"{"model":"m","messages":[{"role":"user","content":"One."},{"role":"user","content":"Two."},{"role":"assistant","content":"A"},{"role":"assistant","content":"B"}]}"#
        )
        try Self.expectJSON(
            out["messages"] ?? .null,
            #"""
            [{"role":"user","content":[{"type":"text","text":"One."},{"type":"text","text":"Two."}]},
             {"role":"assistant","content":[{"type":"text","text":"A"},{"type":"text","text":"B"}]}]
            """#
        )
    }

    @Test(arguments: [
        (#""auto""#, #"{"type":"auto"}"#),
        (#""none""#, #"{"type":"none"}"#),
        (#""required""#, #"{"type":"any"}"#),
        (#"{"type":"function","function":{"name":"get_weather"}}"#, #"{"type":"tool","name":"get_weather"}"#),
    ])
    func toolChoiceMapsToAnthropicsShape(openAI: String, anthropic: String) throws {
        let out = try Self.translate(
            #"{"model":"m","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"get_weather"}}],"tool_choice":\#(openAI)}"#
        )
        try Self.expectJSON(out["tool_choice"] ?? .null, anthropic)
    }

    @Test func toolChoiceWithoutToolsIsDroppedAndStopArraysPassThrough() throws {
        let out = try Self.translate(#"{"model":"m","messages":[{"role":"user","content":"Hi"}],"tool_choice":"auto","stop":["a","b"]}"#)
        #expect(out["tool_choice"] == nil)
        #expect(out["tools"] == nil)
        #expect(out["stop_sequences"] == ["a", "b"])
    }

    @Test func temperatureAboveAnthropicsMaximumIsCapped() throws {
        let out = try Self.translate(#"{"model":"m","messages":[{"role":"user","content":"Hi"}],"temperature":1.7}"#)
        #expect(out["temperature"] == 1)
    }

    @Test func invalidToolCallArgumentsAreA400NamingTheField() throws {
        let error = try #require(
            Self.rejection(
                #"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{not json"}}]}]}"#
            )
        )
        #expect(error.status == .badRequest)
        #expect(error.param == "messages[0].tool_calls[0].function.arguments")
        #expect(error.message.contains("JSON object"))
    }

    @Test func moreThanOneChoiceIsA400() throws {
        let error = try #require(Self.rejection(#"{"model":"m","n":2,"messages":[{"role":"user","content":"Hi"}]}"#))
        #expect(error.status == .badRequest)
        #expect(error.param == "n")
        #expect(error.code == "unsupported_parameter")
    }

    @Test func jsonResponseFormatsAreA400AndTextIsAccepted() throws {
        let error = try #require(
            Self.rejection(
                #"{"model":"m","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}},"messages":[{"role":"user","content":"Hi"}]}"#
            )
        )
        #expect(error.param == "response_format")
        #expect(error.message.contains("json_schema"))
        #expect(Self.rejection(#"{"model":"m","response_format":{"type":"text"},"messages":[{"role":"user","content":"Hi"}]}"#) == nil)
    }

    @Test func unsupportedContentIsA400() throws {
        let badImage = try #require(
            Self.rejection(
                #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}"#
            )
        )
        #expect(badImage.param == "messages[0].content[0].image_url.url")
        let audio = try #require(
            Self.rejection(#"{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}"#)
        )
        #expect(audio.param == "messages[0].content[0].type")
        let role = try #require(Self.rejection(#"{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}"#))
        #expect(role.param == "messages[0].role")
        let onlySystem = try #require(Self.rejection(#"{"model":"m","messages":[{"role":"system","content":"x"}]}"#))
        #expect(onlySystem.param == "messages")
        let noID = try #require(Self.rejection(#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#))
        #expect(noID.param == "messages[0].tool_call_id")
    }

    // MARK: Response

    @Test func messageWithTextAndToolUseBecomesACompletion() throws {
        let message = #"""
            {"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
             "content":[{"type":"thinking","thinking":"hmm","signature":"sig"},
               {"type":"text","text":"Let me "},{"type":"text","text":"check that."},
               {"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{"location":"San Francisco, CA"}}],
             "stop_reason":"tool_use","stop_sequence":null,
             "usage":{"input_tokens":472,"output_tokens":89,"cache_creation_input_tokens":10,"cache_read_input_tokens":100,"service_tier":"standard"}}
            """#
        let out = try AnthropicResponseTranslator.completion(from: ByteBuffer(string: message), model: "fallback", created: 1_700_000_000)
        try Self.expectJSON(
            out,
            #"""
            {"id":"chatcmpl-msg_01XFDUDYJgAACzvnptvVoYEL","object":"chat.completion","created":1700000000,
             "model":"claude-sonnet-4-5-20250929",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Let me check that.",
               "tool_calls":[{"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","type":"function",
                 "function":{"name":"get_weather","arguments":"{\"location\":\"San Francisco, CA\"}"}}]},
               "finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":582,"completion_tokens":89,"total_tokens":671,"prompt_tokens_details":{"cached_tokens":100,"cache_creation_tokens":10}}}
            """#
        )
    }

    @Test func toolOnlyAnswerHasNullContent() throws {
        let message = #"""
            {"id":"msg_2","type":"message","role":"assistant","model":"claude",
             "content":[{"type":"tool_use","id":"toolu_2","name":"now","input":{}}],
             "stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":3}}
            """#
        let out = try AnthropicResponseTranslator.completion(from: ByteBuffer(string: message), model: "m", created: 1)
        let choice = try #require(out["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["content"] == .null)
        #expect(choice["message"]?["tool_calls"]?.arrayValue?.first?["function"]?["arguments"] == "{}")
        #expect(out["usage"]?["prompt_tokens_details"] == nil, "no cache fields, no details")
    }

    @Test(arguments: [
        ("end_turn", "stop"), ("stop_sequence", "stop"), ("pause_turn", "stop"), ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"), ("tool_use", "tool_calls"), ("refusal", "content_filter"),
    ])
    func stopReasonMapsToFinishReason(stopReason: String, finishReason: String) throws {
        let message =
            #"{"id":"msg_3","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"x"}],"stop_reason":"\#(stopReason)","usage":{"input_tokens":1,"output_tokens":1}}"#
        let out = try AnthropicResponseTranslator.completion(from: ByteBuffer(string: message), model: "m", created: 1)
        #expect(out["choices"]?.arrayValue?.first?["finish_reason"] == .string(finishReason))
    }

    @Test func answerThatIsNotAMessageIsAProtocolViolation() {
        #expect(throws: ProviderError.self) {
            try AnthropicResponseTranslator.completion(from: ByteBuffer(string: #"{"hello":"world"}"#), model: "m", created: 1)
        }
    }

    // MARK: Stream

    /// The event sequence of PROTOCOLS.md §5.3, with Anthropic's padding spaces after some JSON.
    static let textAndToolUseStream: [SSEEvent] = [
        sse(
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_01S","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":20,"output_tokens":2}}}   "#
        ),
        sse("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
        sse("ping", #"{"type": "ping"}"#),
        sse("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check"}}"#),
        sse("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        sse(
            "content_block_start",
            #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1","name":"get_weather","input":{}}}"#
        ),
        sse("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#),
        sse(
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"San Fra"}}"#
        ),
        sse(
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ncisco, CA\"}"}}"#
        ),
        sse("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
        sse(
            "message_delta",
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}"#
        ),
        sse("message_stop", #"{"type":"message_stop"}"#),
    ]

    static func run(_ events: [SSEEvent], includeUsage: Bool, finish: Bool = true) throws -> [ChatStreamEvent] {
        var translator = AnthropicStreamTranslator(model: "fallback", includeUsage: includeUsage, providerName: "claude", created: 1)
        var out: [ChatStreamEvent] = []
        for event in events { out += try translator.translate(event) }
        if finish { out += try translator.finish() }
        return out
    }

    @Test func textAndToolUseStreamBecomesExactOpenAIChunks() throws {
        let out = try Self.texts(Self.run(Self.textAndToolUseStream, includeUsage: true))
        let head = #""id":"chatcmpl-msg_01S","object":"chat.completion.chunk","created":1,"model":"claude-sonnet-4-5""#
        #expect(
            out == [
                #"{\#(head),"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
                #"{\#(head),"choices":[{"index":0,"delta":{"content":"Let me check"},"finish_reason":null}]}"#,
                #"{\#(head),"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_01T1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}"#,
                #"{\#(head),"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\": \"San Fra"}}]},"finish_reason":null}]}"#,
                #"{\#(head),"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ncisco, CA\"}"}}]},"finish_reason":null}]}"#,
                #"{\#(head),"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
                #"{\#(head),"choices":[],"usage":{"prompt_tokens":492,"completion_tokens":89,"total_tokens":581,"prompt_tokens_details":{"cached_tokens":20}}}"#,
                "[DONE]",
            ]
        )
    }

    @Test func withoutIncludeUsageThereIsNoUsageChunk() throws {
        let out = try Self.run(Self.textAndToolUseStream, includeUsage: false)
        #expect(out.count == 7)
        #expect(out.last == .done)
        #expect(!Self.texts(out).contains { $0.contains("usage") })
    }

    @Test func toolIndexCountsToolCallsNotContentBlocks() throws {
        let events = [
            Self.sse(
                "message_start",
                #"{"type":"message_start","message":{"id":"msg_p","model":"c","usage":{"input_tokens":1,"output_tokens":1}}}"#
            ),
            Self.sse("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#),
            Self.sse(
                "content_block_delta",
                #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}}"#
            ),
            Self.sse("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#),
            Self.sse("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Both."}}"#),
            Self.sse(
                "content_block_start",
                #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_a","name":"f","input":{}}}"#
            ),
            Self.sse(
                "content_block_start",
                #"{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_b","name":"g","input":{}}}"#
            ),
            Self.sse(
                "content_block_delta",
                #"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#
            ),
        ]
        let out = try Self.texts(Self.run(events, includeUsage: false))
        #expect(out.count == 5, "role, text, two tool starts, one argument piece; nothing for thinking")
        #expect(!out.joined().contains("Hmm"))
        #expect(out[2].contains(#""tool_calls":[{"index":0,"id":"toolu_a""#))
        #expect(out[3].contains(#""tool_calls":[{"index":1,"id":"toolu_b""#))
        #expect(out[4].contains(#""tool_calls":[{"index":1,"function":{"arguments":"{}"}}]"#))
    }

    @Test func streamCutBeforeMessageStopHasNoFinishAndNoDone() throws {
        let cut = Array(Self.textAndToolUseStream.dropLast())
        let out = try Self.run(cut, includeUsage: true)
        #expect(!out.contains(.done))
        #expect(!Self.texts(out).contains { $0.contains(#""finish_reason":"tool_calls""#) || $0.contains("usage") })
    }

    @Test func overloadedErrorEventThrowsARetryableError() throws {
        let events = [
            Self.textAndToolUseStream[0],
            Self.sse("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
        ]
        do {
            _ = try Self.run(events, includeUsage: false)
            Issue.record("the error event must throw")
        } catch let error as ProviderError {
            #expect(error.kind == .server)
            #expect(error.allowsFailover)
            #expect(error.message.contains("Overloaded"))
            #expect(error.upstreamError?.status == .serviceUnavailable)
            #expect(error.upstreamError?.code == "overloaded_error")
        }
    }

    @Test func malformedEventIsAProtocolViolation() {
        #expect(throws: ProviderError.self) {
            _ = try Self.run([Self.sse("content_block_delta", "{oops")], includeUsage: false)
        }
    }

    // MARK: Errors

    static func mapped(_ status: Int, _ body: String) -> ProviderError {
        AnthropicErrorMapping.error(status: HTTPResponse.Status(code: status), body: ByteBuffer(string: body), provider: "claude")
    }

    @Test func overloaded529IsRetryableAndReachesTheClientAs503() {
        let error = Self.mapped(529, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#)
        #expect(error.kind == .server)
        #expect(error.allowsFailover)
        #expect(
            error.upstreamError
                == GatewayError(status: .serviceUnavailable, message: "Overloaded", type: "server_error", code: "overloaded_error")
        )
    }

    @Test func rateLimit429IsRateLimited() {
        let error = Self.mapped(
            429,
            #"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#
        )
        #expect(error.kind == .rateLimited)
        #expect(error.upstreamError?.status == .tooManyRequests)
        #expect(error.upstreamError?.type == "rate_limit_error")
        #expect(error.upstreamError?.code == nil)
    }

    @Test func invalidRequest400PassesAnthropicsMessageThrough() {
        let error = Self.mapped(
            400,
            #"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be at least 1"}}"#
        )
        #expect(error.kind == .client)
        #expect(
            error.upstreamError
                == GatewayError(status: .badRequest, message: "max_tokens: must be at least 1", type: "invalid_request_error")
        )
    }

    @Test func notFoundAndServerErrorsKeepAnthropicsTypeAsCode() {
        let notFound = Self.mapped(404, #"{"type":"error","error":{"type":"not_found_error","message":"model: claude-foo"}}"#)
        #expect(notFound.kind == .client)
        #expect(notFound.upstreamError?.status == .notFound)
        #expect(notFound.upstreamError?.message == "model: claude-foo")
        let server = Self.mapped(500, #"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#)
        #expect(server.kind == .server)
        #expect(server.upstreamError?.type == "server_error")
        #expect(server.upstreamError?.code == "api_error")
    }

    @Test func credentialErrorsNeverRelayAnthropicsText() {
        let error = Self.mapped(401, #"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key sk-ant-123"}}"#)
        #expect(error.kind == .authentication)
        #expect(error.upstreamError?.status == .badGateway)
        #expect(error.upstreamError?.code == "upstream_authentication_failed")
        #expect(error.upstreamError?.message.contains("sk-ant") == false)
    }

    @Test func nonJSONErrorBodyKeepsItsText() {
        let error = Self.mapped(502, "<html>Bad gateway</html>")
        #expect(error.kind == .server)
        #expect(error.upstreamError?.message == "<html>Bad gateway</html>")
    }

    // MARK: Configuration

    @Test(arguments: [
        "https://api.anthropic.com", "https://api.anthropic.com/", "https://api.anthropic.com/v1", "https://api.anthropic.com/v1/",
    ])
    func baseURLRootIsFoundWithOrWithoutV1(baseURL: String) {
        #expect(AnthropicProvider.apiRoot(baseURL) == "https://api.anthropic.com")
    }
}
