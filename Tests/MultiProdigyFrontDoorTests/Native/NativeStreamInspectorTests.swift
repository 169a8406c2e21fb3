import MultiProdigyCore
import MultiProdigyJSON
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct NativeStreamInspectorTests {
    private typealias Fixture = NativeStreamFixture

    // MARK: Anthropic Messages

    /// A whole Anthropic stream (Messages API reference and extended-thinking docs): cache counts in
    /// `message_start`, a `ping`, a thinking block with its signature, a text block, a tool call
    /// streamed as `input_json_delta`s, the final usage and `message_stop`. Some data has spaces
    /// after its colons, as Anthropic's own fixtures do.
    private static let anthropicStream = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":100,"cache_read_input_tokens":2048,"output_tokens":2}}}

        event: ping
        data: {"type": "ping"}

        event: content_block_start
        data: {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}

        event: content_block_delta
        data: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "I need to find the GCD of 1071 and 462.\\n\\n1071 = 2 × 462 + 147"}}

        event: content_block_delta
        data: {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}

        event: content_block_stop
        data: {"type": "content_block_stop", "index": 0}

        event: content_block_start
        data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Let me check"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":1}

        event: content_block_start
        data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\": \\"San Fra"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"ncisco, CA\\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":2}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

        event: message_stop
        data: {"type":"message_stop"}


        """

    private static let anthropicStartUsage = Fixture.usage(prompt: 2620, completion: 2, cached: 2048, cacheWrites: 100)
    private static let anthropicFinalUsage = Fixture.usage(prompt: 2620, completion: 89, cached: 2048, cacheWrites: 100)

    @Test func anthropicStreamIsForwardedEventByEventWithTheModelRenamedAndTheCostInTheFinalUsage() throws {
        let events = Fixture.events(Self.anthropicStream)
        try #require(events.count == 16)
        var inspector = NativeStreamInspector(api: .messages, modelName: "claude")
        let renamedStart = Fixture.frame(
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":100,"cache_read_input_tokens":2048,"output_tokens":2}}}"#
        )
        // (step, output characters after it): only message_start is rewritten, message_delta waits
        // for its price.
        let expected: [(step: NativeStreamStep, characters: Int)] = [
            (.forward(renamedStart), 0),
            (Fixture.unchanged(events[1]), 0),
            (Fixture.unchanged(events[2]), 0),
            (Fixture.unchanged(events[3]), 61),
            (Fixture.unchanged(events[4]), 61),
            (Fixture.unchanged(events[5]), 61),
            (Fixture.unchanged(events[6]), 61),
            (Fixture.unchanged(events[7]), 73),
            (Fixture.unchanged(events[8]), 73),
            (Fixture.unchanged(events[9]), 73),
            (Fixture.unchanged(events[10]), 73),
            (Fixture.unchanged(events[11]), 94),
            (Fixture.unchanged(events[12]), 106),
            (Fixture.unchanged(events[13]), 106),
            (.usage(Self.anthropicFinalUsage), 106),
            (Fixture.unchanged(events[15]), 106),
        ]
        for (index, event) in events.enumerated() {
            let step = inspector.inspect(event)
            #expect(step == expected[index].step, "event \(index)")
            #expect(inspector.outputCharacters == expected[index].characters, "event \(index)")
            #expect(inspector.isComplete == (index == 15), "event \(index)")
            #expect(inspector.reportedUsage == (index < 14 ? Self.anthropicStartUsage : Self.anthropicFinalUsage), "event \(index)")
            if index == 14 {
                #expect(
                    String(buffer: inspector.pricedFrame(costUSD: ByteBuffer(string: "0.0123")))
                        == "event: message_delta\n"
                        + #"data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89,"cost_usd":0.0123}}"#
                        + "\n\n"
                )
                #expect(inspector.pricedFrame(costUSD: ByteBuffer(string: "1")).readableBytes == 0, "written once")
            }
        }
        #expect(inspector.completedResponse == nil)
    }

    @Test func ping() {
        var inspector = NativeStreamInspector(api: .messages, modelName: "claude")
        #expect(
            inspector.inspect(SSEEvent(name: "ping", data: Array(#"{"type": "ping"}"#.utf8)))
                == .forward(ByteBuffer(string: "event: ping\ndata: {\"type\": \"ping\"}\n\n"))
        )
    }

    @Test func anthropicFinalUsageWithoutAPriceKeepsItsBytes() {
        var inspector = NativeStreamInspector(api: .messages, modelName: "claude")
        let delta = #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#
        #expect(
            inspector.inspect(SSEEvent(name: "message_delta", data: Array(delta.utf8))) == .usage(Fixture.usage(prompt: 0, completion: 15))
        )
        #expect(inspector.pricedFrame(costUSD: nil) == Fixture.frame("message_delta", delta))
    }

    /// `message_delta`'s usage is cumulative and, on newer API versions, repeats the input counts:
    /// each count it carries replaces `message_start`'s, the others stay.
    @Test(arguments: [
        (
            #"{"output_tokens":89}"#,
            Fixture.usage(prompt: 2620, completion: 89, cached: 2048, cacheWrites: 100)
        ),
        (
            #"{"input_tokens":500,"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"output_tokens":90}"#,
            Fixture.usage(prompt: 2548, completion: 90, cached: 2048)
        ),
        (
            #"{"output_tokens":89,"input_tokens":null,"server_tool_use":{"web_search_requests":1}}"#,
            Fixture.usage(prompt: 2620, completion: 89, cached: 2048, cacheWrites: 100)
        ),
    ])
    func anthropicDeltaUsageUpdatesTheStartUsage(deltaUsage: String, expected: TokenUsage) {
        var inspector = NativeStreamInspector(api: .messages, modelName: "claude")
        let events = Fixture.events(Self.anthropicStream)
        _ = inspector.inspect(events[0])
        let delta = #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":"# + deltaUsage + "}"
        #expect(inspector.inspect(SSEEvent(name: "message_delta", data: Array(delta.utf8))) == .usage(expected))
        #expect(inspector.reportedUsage == expected)
    }

    @Test func anthropicStreamCutShortIsIncompleteWithTheUsageSoFarAndEndsWithAnthropicsErrorEvent() {
        var inspector = NativeStreamInspector(api: .messages, modelName: "claude")
        for event in Fixture.events(Self.anthropicStream).prefix(8) { _ = inspector.inspect(event) }
        #expect(!inspector.isComplete)
        #expect(inspector.reportedUsage == Self.anthropicStartUsage)
        #expect(inspector.outputCharacters == 73)
        #expect(
            String(buffer: inspector.errorFrame(type: "api_error", message: "The upstream \"stopped\"."))
                == "event: error\n" + #"data: {"type":"error","error":{"type":"api_error","message":"The upstream \"stopped\"."}}"# + "\n\n"
        )
    }

    // MARK: OpenAI Responses

    private static let createdResponse =
        #"{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"store":true,"temperature":1.0,"tool_choice":"auto","tools":[],"usage":null,"metadata":{}}"#

    /// A whole Responses stream (OpenAI's streaming reference): created, in progress, a message with
    /// two text deltas, a function call with two argument deltas, completed with cached and
    /// reasoning tokens.
    private static let responsesStream = """
        event: response.created
        data: {"type":"response.created","response":\(createdResponse),"sequence_number":0}

        event: response.in_progress
        data: {"type":"response.in_progress","response":\(createdResponse),"sequence_number":1}

        event: response.output_item.added
        data: {"type":"response.output_item.added","output_index":0,"item":{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"in_progress","role":"assistant","content":[]},"sequence_number":2}

        event: response.content_part.added
        data: {"type":"response.content_part.added","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]},"sequence_number":3}

        event: response.output_text.delta
        data: {"type":"response.output_text.delta","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":"Hi","sequence_number":4,"logprobs":[]}

        event: response.output_text.delta
        data: {"type":"response.output_text.delta","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":" there","sequence_number":5,"logprobs":[]}

        event: response.output_text.done
        data: {"type":"response.output_text.done","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"text":"Hi there","sequence_number":6,"logprobs":[]}

        event: response.content_part.done
        data: {"type":"response.content_part.done","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hi there","annotations":[]},"sequence_number":7}

        event: response.output_item.done
        data: {"type":"response.output_item.done","output_index":0,"item":{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there","annotations":[]}]},"sequence_number":8}

        event: response.output_item.added
        data: {"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","id":"fc_12345xyz","call_id":"call_12345xyz","name":"get_weather","arguments":"","status":"in_progress"},"sequence_number":9}

        event: response.function_call_arguments.delta
        data: {"type":"response.function_call_arguments.delta","item_id":"fc_12345xyz","output_index":1,"delta":"{\\"city\\":","sequence_number":10}

        event: response.function_call_arguments.delta
        data: {"type":"response.function_call_arguments.delta","item_id":"fc_12345xyz","output_index":1,"delta":"\\"Paris\\"}","sequence_number":11}

        event: response.function_call_arguments.done
        data: {"type":"response.function_call_arguments.done","item_id":"fc_12345xyz","output_index":1,"arguments":"{\\"city\\":\\"Paris\\"}","sequence_number":12}

        event: response.output_item.done
        data: {"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","id":"fc_12345xyz","call_id":"call_12345xyz","name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}","status":"completed"},"sequence_number":13}

        event: response.completed
        data: {"type":"response.completed","response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"completed","error":null,"incomplete_details":null,"model":"gpt-4.1-2025-04-14","output":[{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there","annotations":[]}]},{"type":"function_call","id":"fc_12345xyz","call_id":"call_12345xyz","name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}","status":"completed"}],"usage":{"input_tokens":37,"input_tokens_details":{"cached_tokens":12},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":4},"total_tokens":48}},"sequence_number":14}


        """

    private static let responsesUsage = Fixture.usage(prompt: 37, completion: 11, cached: 12, reasoning: 4)

    @Test func responsesStreamIsForwardedEventByEventWithTheModelRenamedAndTheCostInTheFinalUsage() throws {
        let events = Fixture.events(Self.responsesStream)
        try #require(events.count == 15)
        var inspector = NativeStreamInspector(api: .responses, modelName: "gpt")
        let renamedResponse = Self.createdResponse.replacing(#""model":"gpt-4.1-2025-04-14""#, with: #""model":"gpt""#)
        let expected: [(step: NativeStreamStep, characters: Int)] = [
            (
                .forward(
                    Fixture.frame("response.created", #"{"type":"response.created","response":\#(renamedResponse),"sequence_number":0}"#)
                ), 0
            ),
            (
                .forward(
                    Fixture.frame(
                        "response.in_progress",
                        #"{"type":"response.in_progress","response":\#(renamedResponse),"sequence_number":1}"#
                    )
                ), 0
            ),
            (Fixture.unchanged(events[2]), 0),
            (Fixture.unchanged(events[3]), 0),
            (Fixture.unchanged(events[4]), 2),
            (Fixture.unchanged(events[5]), 8),
            (Fixture.unchanged(events[6]), 8),
            (Fixture.unchanged(events[7]), 8),
            (Fixture.unchanged(events[8]), 8),
            (Fixture.unchanged(events[9]), 8),
            (Fixture.unchanged(events[10]), 16),
            (Fixture.unchanged(events[11]), 24),
            (Fixture.unchanged(events[12]), 24),
            (Fixture.unchanged(events[13]), 24),
            (.usage(Self.responsesUsage), 24),
        ]
        for (index, event) in events.enumerated() {
            #expect(inspector.inspect(event) == expected[index].step, "event \(index)")
            #expect(inspector.outputCharacters == expected[index].characters, "event \(index)")
            #expect(inspector.isComplete == (index == 14), "event \(index)")
            #expect(inspector.reportedUsage == (index == 14 ? Self.responsesUsage : nil), "event \(index)")
        }
        #expect(inspector.completedResponse == nil, "set when the final event is written")

        let completed = String(buffer: inspector.pricedFrame(costUSD: ByteBuffer(string: "0.00042")))
        let output =
            #"[{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there","annotations":[]}]},{"type":"function_call","id":"fc_12345xyz","call_id":"call_12345xyz","name":"get_weather","arguments":"{\"city\":\"Paris\"}","status":"completed"}]"#
        let response =
            #"{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"completed","error":null,"incomplete_details":null,"model":"gpt","output":\#(output),"usage":{"input_tokens":37,"input_tokens_details":{"cached_tokens":12},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":4},"total_tokens":48,"cost_usd":0.00042}}"#
        #expect(
            completed
                == "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":\(response),\"sequence_number\":14}\n\n"
        )
        #expect(inspector.completedResponse.map { String(buffer: $0) } == response)
        #expect(
            String(buffer: inspector.errorFrame(type: "server_error", message: "late"))
                == "event: error\n" + #"data: {"type":"error","code":"server_error","message":"late","param":null,"sequence_number":15}"#
                + "\n\n"
        )
    }

    @Test func responsesStreamEndingIncompleteIsACompleteAnswerWithItsUsage() {
        let stream = """
            event: response.created
            data: {"type":"response.created","response":\(Self.createdResponse),"sequence_number":0}

            event: response.output_text.delta
            data: {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Once upon","sequence_number":1}

            event: response.incomplete
            data: {"type":"response.incomplete","response":{"id":"resp_1","object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"model":"gpt-4.1-2025-04-14","output":[],"usage":{"input_tokens":20,"output_tokens":16,"total_tokens":36}},"sequence_number":2}


            """
        var inspector = NativeStreamInspector(api: .responses, modelName: "gpt")
        let events = Fixture.events(stream)
        _ = inspector.inspect(events[0])
        #expect(inspector.inspect(events[1]) == Fixture.unchanged(events[1]))
        #expect(!inspector.isComplete)
        #expect(inspector.outputCharacters == 9)
        #expect(inspector.inspect(events[2]) == .usage(Fixture.usage(prompt: 20, completion: 16)))
        #expect(inspector.isComplete)
        let response =
            #"{"id":"resp_1","object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"model":"gpt","output":[],"usage":{"input_tokens":20,"output_tokens":16,"total_tokens":36}}"#
        #expect(
            inspector.pricedFrame(costUSD: nil)
                == Fixture.frame("response.incomplete", #"{"type":"response.incomplete","response":\#(response),"sequence_number":2}"#)
        )
        #expect(inspector.completedResponse == ByteBuffer(string: response))
    }

    @Test func responsesCompletedWithoutUsageIsForwardedRenamedAndKept() {
        var inspector = NativeStreamInspector(api: .responses, modelName: "gpt")
        let data =
            #"{"type":"response.completed","response":{"id":"resp_1","status":"completed","model":"upstream-model","output":[],"usage":null},"sequence_number":3}"#
        let renamed = #"{"id":"resp_1","status":"completed","model":"gpt","output":[],"usage":null}"#
        #expect(
            inspector.inspect(SSEEvent(name: "response.completed", data: Array(data.utf8)))
                == .forward(
                    Fixture.frame("response.completed", #"{"type":"response.completed","response":\#(renamed),"sequence_number":3}"#)
                )
        )
        #expect(inspector.isComplete)
        #expect(inspector.reportedUsage == nil)
        #expect(inspector.completedResponse == ByteBuffer(string: renamed))
    }

    @Test func responsesStreamCutShortNumbersTheGatewaysErrorEventsAfterTheLastSeen() {
        var inspector = NativeStreamInspector(api: .responses, modelName: "gpt")
        for event in Fixture.events(Self.responsesStream).prefix(6) { _ = inspector.inspect(event) }
        #expect(!inspector.isComplete)
        #expect(inspector.reportedUsage == nil)
        #expect(inspector.outputCharacters == 8)
        #expect(
            String(buffer: inspector.errorFrame(type: "upstream_error", message: "The upstream stopped."))
                == "event: error\n"
                + #"data: {"type":"error","code":"upstream_error","message":"The upstream stopped.","param":null,"sequence_number":6}"#
                + "\n\n"
        )
        #expect(String(buffer: inspector.errorFrame(type: "x", message: "y")).contains(#""sequence_number":7}"#))
    }

    @Test func responsesErrorFrameBeforeAnyEventIsNumberedZero() {
        var inspector = NativeStreamInspector(api: .responses, modelName: "gpt")
        #expect(String(buffer: inspector.errorFrame(type: "x", message: "y")).hasSuffix(#""param":null,"sequence_number":0}"# + "\n\n"))
    }

    // MARK: Upstream errors, malformed data

    @Test(arguments: [
        (
            NativeAPI.messages, "error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            NativeStreamStep.upstreamError(type: "overloaded_error", message: "Overloaded")
        ),
        (
            .messages, "error", #"{"type":"error"}"#,
            .upstreamError(type: nil, message: "The upstream reported an error in the stream.")
        ),
        (
            .responses, "error",
            #"{"type":"error","code":"ERR_SOMETHING","message":"Something went wrong","param":null,"sequence_number":1}"#,
            .upstreamError(type: "ERR_SOMETHING", message: "Something went wrong")
        ),
        (
            .responses, "error", #"{"type":"error","code":null,"message":"sk-secret leaked","param":null,"sequence_number":1}"#,
            .upstreamError(type: nil, message: "sk-secret leaked")
        ),
        (
            .responses, "response.failed",
            #"{"type":"response.failed","response":{"id":"resp_1","object":"response","status":"failed","error":{"code":"server_error","message":"The model failed to generate a response."},"model":"gpt-4.1","output":[],"usage":null},"sequence_number":1}"#,
            .upstreamError(type: "server_error", message: "The model failed to generate a response.")
        ),
    ])
    func upstreamErrorEventsAreReportedNotForwarded(api: NativeAPI, name: String, data: String, expected: NativeStreamStep) {
        var inspector = NativeStreamInspector(api: api, modelName: "m")
        #expect(inspector.inspect(SSEEvent(name: name, data: Array(data.utf8))) == expected)
        #expect(!inspector.isComplete)
    }

    @Test func aFailedResponsesUsageIsKeptForAccounting() {
        var inspector = NativeStreamInspector(api: .responses, modelName: "gpt")
        let data =
            #"{"type":"response.failed","response":{"id":"resp_1","status":"failed","error":{"code":"server_error","message":"boom"},"model":"gpt-4.1","output":[],"usage":{"input_tokens":30,"output_tokens":7}},"sequence_number":9}"#
        #expect(
            inspector.inspect(SSEEvent(name: "response.failed", data: Array(data.utf8)))
                == .upstreamError(type: "server_error", message: "boom")
        )
        #expect(inspector.reportedUsage == Fixture.usage(prompt: 30, completion: 7))
        #expect(!inspector.isComplete)
        #expect(inspector.completedResponse == nil)
        #expect(String(buffer: inspector.errorFrame(type: "server_error", message: "boom")).contains(#""sequence_number":10}"#))
    }

    @Test func anUpstreamErrorsSequenceNumberCountsForTheGatewaysOwnErrorEvent() {
        var inspector = NativeStreamInspector(api: .responses, modelName: "gpt")
        let data = #"{"type":"error","code":"server_error","message":"boom","param":null,"sequence_number":41}"#
        _ = inspector.inspect(SSEEvent(name: "error", data: Array(data.utf8)))
        #expect(String(buffer: inspector.errorFrame(type: "server_error", message: "boom")).contains(#""sequence_number":42}"#))
    }

    @Test(arguments: NativeAPI.allCases)
    func dataThatIsNotAnObjectWithATypeIsMalformed(api: NativeAPI) {
        let cases: [(data: String, reason: String)] = [
            ("not json", "the event's data is not a JSON object"),
            ("[1,2]", "the event's data is not a JSON object"),
            (#"{"type":"ping""#, "the event's data is not a JSON object"),
            ("", "the event's data is not a JSON object"),
            (#"{"error":{"message":"x"}}"#, "the event's data has no string `type`"),
            (#"{"type":7}"#, "the event's data has no string `type`"),
        ]
        for (data, reason) in cases {
            var inspector = NativeStreamInspector(api: api, modelName: "m")
            #expect(inspector.inspect(SSEEvent(name: "message_stop", data: Array(data.utf8))) == .malformed(reason: reason), "\(data)")
            #expect(!inspector.isComplete)
        }
    }

    @Test(arguments: NativeAPI.allCases)
    func doneSentinelIsSkipped(api: NativeAPI) {
        var inspector = NativeStreamInspector(api: api, modelName: "m")
        #expect(inspector.inspect(SSEEvent(data: Array("[DONE]".utf8))) == .skip)
    }

    @Test func eventsWithoutANameAreFramedWithoutOne() {
        var inspector = NativeStreamInspector(api: .responses, modelName: "gpt")
        let data = #"{"type":"response.output_text.delta","delta":"Hi","sequence_number":4}"#
        #expect(inspector.inspect(SSEEvent(data: Array(data.utf8))) == .forward(ByteBuffer(string: "data: \(data)\n\n")))
    }

    @Test func dataSpanningLinesIsWrittenAsOneDataLinePerLine() {
        var inspector = NativeStreamInspector(api: .messages, modelName: "claude")
        let events = Fixture.events("event: content_block_stop\ndata: {\"type\":\ndata:  \"content_block_stop\",\ndata: \"index\":0}\n\n")
        #expect(
            inspector.inspect(events[0])
                == .forward(
                    ByteBuffer(
                        string: "event: content_block_stop\ndata: {\"type\":\ndata:  \"content_block_stop\",\ndata: \"index\":0}\n\n"
                    )
                )
        )
    }
}
