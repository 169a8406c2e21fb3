import MultiProdigyCore
import MultiProdigyJSON
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct ResponsesStreamRendererTests {
    /// A renderer for response `resp_s` of a plain request.
    func renderer(_ body: String = #"{"model":"fast","input":"Hi","stream":true}"#) throws -> ResponsesStreamRenderer {
        ResponsesStreamRenderer(request: try ResponsesFixture.request(body), id: "resp_s", createdAt: 1_700_000_000, model: "fast")
    }

    /// The events' data, parsed from literal lines.
    func literal(_ lines: String) throws -> [JSONValue] {
        try lines.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    @Test func textOnlyStream() throws {
        var stream = try renderer()
        var buffer = ByteBuffer()
        stream.start(into: &buffer)
        stream.render(ChatDelta(text: "Hel"), into: &buffer)
        stream.render(ChatDelta(text: "lo"), into: &buffer)
        stream.render(ChatDelta(finishReason: "stop"), into: &buffer)
        stream.render(ChatDelta(usage: TokenUsage(promptTokens: 5, completionTokens: 2)), into: &buffer)
        let final = stream.finish(usage: nil, costUSD: 0.25, into: &buffer)

        // The wire format itself, for the first content event.
        #expect(
            String(buffer: buffer).contains(
                "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"output_index\":0,"
                    + "\"item\":{\"id\":\"msg_s_0\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]},"
                    + "\"sequence_number\":2}\n\n"
            )
        )
        let events = try ResponsesFixture.events(buffer)
        #expect(
            events.map(\.name) == [
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
                "response.output_item.done", "response.completed",
            ]
        )
        #expect(events.map { $0.data["type"]?.stringValue } == events.map(\.name))
        #expect(events.map { $0.data["sequence_number"]?.intValue } == Array(0..<10))
        for opening in events[0..<2] {
            #expect(opening.data["response"]?["status"] == "in_progress")
            #expect(opening.data["response"]?["output"] == [])
            #expect(opening.data["response"]?["usage"] == .null)
            #expect(opening.data["response"]?["model"] == "fast")
        }
        #expect(
            events[3...8].map(\.data)
                == (try literal(
                    #"""
                    {"type":"response.content_part.added","item_id":"msg_s_0","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]},"sequence_number":3}
                    {"type":"response.output_text.delta","item_id":"msg_s_0","output_index":0,"content_index":0,"delta":"Hel","logprobs":[],"sequence_number":4}
                    {"type":"response.output_text.delta","item_id":"msg_s_0","output_index":0,"content_index":0,"delta":"lo","logprobs":[],"sequence_number":5}
                    {"type":"response.output_text.done","item_id":"msg_s_0","output_index":0,"content_index":0,"text":"Hello","logprobs":[],"sequence_number":6}
                    {"type":"response.content_part.done","item_id":"msg_s_0","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hello","annotations":[]},"sequence_number":7}
                    {"type":"response.output_item.done","output_index":0,"item":{"id":"msg_s_0","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]},"sequence_number":8}
                    """#
                ))
        )
        #expect(events[9].data["response"] == final)
        #expect(
            final
                == (try ResponsesFixture.json(
                    #"""
                    {"id":"resp_s","object":"response","created_at":1700000000,"status":"completed","error":null,"incomplete_details":null,
                     "instructions":null,"max_output_tokens":null,"model":"fast",
                     "output":[{"id":"msg_s_0","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]}],
                     "parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,
                     "temperature":null,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":null,
                     "usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0,"cache_write_tokens":0},"output_tokens":2,
                              "output_tokens_details":{"reasoning_tokens":0},"total_tokens":7,"cost_usd":0.25},
                     "user":null,"metadata":{}}
                    """#
                ))
        )
        // The non-streamed rendering of the same answer is the same object.
        let answer = ChatAnswer(
            id: "c",
            created: 1,
            model: "fast",
            text: "Hello",
            finishReason: "stop",
            usage: TokenUsage(promptTokens: 5, completionTokens: 2),
            costUSD: 0.25
        )
        #expect(
            final
                == ResponsesRenderer.response(
                    from: answer,
                    request: try ResponsesFixture.request(#"{"model":"fast","input":"Hi"}"#),
                    id: "resp_s",
                    createdAt: 1_700_000_000
                )
        )
    }

    @Test func textThenFunctionCallWithArgumentPieces() throws {
        var stream = try renderer()
        var buffer = ByteBuffer()
        stream.render(ChatDelta(text: "Checking."), into: &buffer)
        stream.render(ChatDelta(toolCalls: [.init(index: 0, id: "call_1", name: "weather", arguments: "")]), into: &buffer)
        stream.render(ChatDelta(toolCalls: [.init(index: 0, arguments: "{\"city\":")]), into: &buffer)
        stream.render(ChatDelta(toolCalls: [.init(index: 0, arguments: "\"Paris\"}")]), into: &buffer)
        stream.render(ChatDelta(finishReason: "tool_calls"), into: &buffer)
        let final = stream.finish(usage: TokenUsage(promptTokens: 9, completionTokens: 4), costUSD: nil, into: &buffer)

        let events = try ResponsesFixture.events(buffer)
        #expect(events.map { $0.data["sequence_number"]?.intValue } == Array(0..<events.count))
        #expect(
            events.dropFirst(2).map(\.data)
                == (try literal(
                    #"""
                    {"type":"response.output_item.added","output_index":0,"item":{"id":"msg_s_0","type":"message","status":"in_progress","role":"assistant","content":[]},"sequence_number":2}
                    {"type":"response.content_part.added","item_id":"msg_s_0","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]},"sequence_number":3}
                    {"type":"response.output_text.delta","item_id":"msg_s_0","output_index":0,"content_index":0,"delta":"Checking.","logprobs":[],"sequence_number":4}
                    {"type":"response.output_text.done","item_id":"msg_s_0","output_index":0,"content_index":0,"text":"Checking.","logprobs":[],"sequence_number":5}
                    {"type":"response.content_part.done","item_id":"msg_s_0","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Checking.","annotations":[]},"sequence_number":6}
                    {"type":"response.output_item.done","output_index":0,"item":{"id":"msg_s_0","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Checking.","annotations":[]}]},"sequence_number":7}
                    {"type":"response.output_item.added","output_index":1,"item":{"id":"fc_s_1","type":"function_call","status":"in_progress","arguments":"","call_id":"call_1","name":"weather"},"sequence_number":8}
                    {"type":"response.function_call_arguments.delta","item_id":"fc_s_1","output_index":1,"delta":"{\"city\":","sequence_number":9}
                    {"type":"response.function_call_arguments.delta","item_id":"fc_s_1","output_index":1,"delta":"\"Paris\"}","sequence_number":10}
                    {"type":"response.function_call_arguments.done","item_id":"fc_s_1","output_index":1,"name":"weather","arguments":"{\"city\":\"Paris\"}","sequence_number":11}
                    {"type":"response.output_item.done","output_index":1,"item":{"id":"fc_s_1","type":"function_call","status":"completed","arguments":"{\"city\":\"Paris\"}","call_id":"call_1","name":"weather"},"sequence_number":12}
                    """#
                ) + [events.last!.data])
        )
        #expect(events.last?.name == "response.completed")
        #expect(final["status"] == "completed")
        #expect(final["output"]?.arrayValue?.count == 2)
        #expect(final["output"]?.arrayValue?.last?["arguments"] == #"{"city":"Paris"}"#)
        #expect(final["usage"]?["total_tokens"] == 13)
    }

    @Test func twoFunctionCallsAreClosedInOrder() throws {
        var stream = try renderer()
        var buffer = ByteBuffer()
        stream.render(ChatDelta(toolCalls: [.init(index: 0, id: "call_a", name: "f", arguments: "{\"x\":1}")]), into: &buffer)
        stream.render(ChatDelta(toolCalls: [.init(index: 1, id: "call_b", name: "g", arguments: "{}")]), into: &buffer)
        stream.render(ChatDelta(finishReason: "tool_calls"), into: &buffer)
        let final = stream.finish(usage: nil, costUSD: nil, into: &buffer)

        let events = try ResponsesFixture.events(buffer)
        #expect(
            events.dropFirst(2).map(\.data)
                == (try literal(
                    #"""
                    {"type":"response.output_item.added","output_index":0,"item":{"id":"fc_s_0","type":"function_call","status":"in_progress","arguments":"","call_id":"call_a","name":"f"},"sequence_number":2}
                    {"type":"response.function_call_arguments.delta","item_id":"fc_s_0","output_index":0,"delta":"{\"x\":1}","sequence_number":3}
                    {"type":"response.function_call_arguments.done","item_id":"fc_s_0","output_index":0,"name":"f","arguments":"{\"x\":1}","sequence_number":4}
                    {"type":"response.output_item.done","output_index":0,"item":{"id":"fc_s_0","type":"function_call","status":"completed","arguments":"{\"x\":1}","call_id":"call_a","name":"f"},"sequence_number":5}
                    {"type":"response.output_item.added","output_index":1,"item":{"id":"fc_s_1","type":"function_call","status":"in_progress","arguments":"","call_id":"call_b","name":"g"},"sequence_number":6}
                    {"type":"response.function_call_arguments.delta","item_id":"fc_s_1","output_index":1,"delta":"{}","sequence_number":7}
                    {"type":"response.function_call_arguments.done","item_id":"fc_s_1","output_index":1,"name":"g","arguments":"{}","sequence_number":8}
                    {"type":"response.output_item.done","output_index":1,"item":{"id":"fc_s_1","type":"function_call","status":"completed","arguments":"{}","call_id":"call_b","name":"g"},"sequence_number":9}
                    """#
                ) + [events.last!.data])
        )
        #expect(events.last?.name == "response.completed")
        #expect(final["usage"] == .null)
        #expect(
            final["output"]
                == (try ResponsesFixture.json(
                    #"""
                    [{"id":"fc_s_0","type":"function_call","status":"completed","arguments":"{\"x\":1}","call_id":"call_a","name":"f"},
                     {"id":"fc_s_1","type":"function_call","status":"completed","arguments":"{}","call_id":"call_b","name":"g"}]
                    """#
                ))
        )
    }

    @Test func reasoningThenTextClosesTheReasoningItemFirst() throws {
        var stream = try renderer()
        var buffer = ByteBuffer()
        stream.render(ChatDelta(reasoning: "Think"), into: &buffer)
        stream.render(ChatDelta(reasoning: "ing."), into: &buffer)
        stream.render(ChatDelta(text: "Done."), into: &buffer)
        let final = stream.finish(usage: nil, costUSD: nil, into: &buffer)

        let events = try ResponsesFixture.events(buffer)
        #expect(
            events.dropFirst(2).prefix(7).map(\.data)
                == (try literal(
                    #"""
                    {"type":"response.output_item.added","output_index":0,"item":{"id":"rs_s_0","type":"reasoning","status":"in_progress","summary":[],"content":[]},"sequence_number":2}
                    {"type":"response.content_part.added","item_id":"rs_s_0","output_index":0,"content_index":0,"part":{"type":"reasoning_text","text":""},"sequence_number":3}
                    {"type":"response.reasoning_text.delta","item_id":"rs_s_0","output_index":0,"content_index":0,"delta":"Think","sequence_number":4}
                    {"type":"response.reasoning_text.delta","item_id":"rs_s_0","output_index":0,"content_index":0,"delta":"ing.","sequence_number":5}
                    {"type":"response.reasoning_text.done","item_id":"rs_s_0","output_index":0,"content_index":0,"text":"Thinking.","sequence_number":6}
                    {"type":"response.content_part.done","item_id":"rs_s_0","output_index":0,"content_index":0,"part":{"type":"reasoning_text","text":"Thinking."},"sequence_number":7}
                    {"type":"response.output_item.done","output_index":0,"item":{"id":"rs_s_0","type":"reasoning","status":"completed","summary":[],"content":[{"type":"reasoning_text","text":"Thinking."}]},"sequence_number":8}
                    """#
                ))
        )
        #expect(events[9].name == "response.output_item.added")
        #expect(events[9].data["item"]?["id"] == "msg_s_1")
        #expect(final["output"]?.arrayValue?.map { $0["type"] } == ["reasoning", "message"])
    }

    @Test func textThenRefusalAreTwoPartsOfOneMessage() throws {
        var stream = try renderer()
        var buffer = ByteBuffer()
        stream.render(ChatDelta(text: "Well"), into: &buffer)
        stream.render(ChatDelta(refusal: "No."), into: &buffer)
        let final = stream.finish(usage: nil, costUSD: nil, into: &buffer)

        let events = try ResponsesFixture.events(buffer)
        #expect(
            events.map(\.name) == [
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.content_part.added",
                "response.refusal.delta", "response.refusal.done", "response.content_part.done", "response.output_item.done",
                "response.completed",
            ]
        )
        #expect(events[8].data["content_index"] == 1)
        #expect(
            final["output"]
                == (try ResponsesFixture.json(
                    #"""
                    [{"id":"msg_s_0","type":"message","status":"completed","role":"assistant",
                      "content":[{"type":"output_text","text":"Well","annotations":[]},{"type":"refusal","refusal":"No."}]}]
                    """#
                ))
        )
    }

    @Test func finishByLengthIsIncomplete() throws {
        var stream = try renderer(#"{"model":"fast","input":"Hi","stream":true,"max_output_tokens":16}"#)
        var buffer = ByteBuffer()
        stream.render(ChatDelta(text: "Once upon"), into: &buffer)
        stream.render(ChatDelta(finishReason: "length"), into: &buffer)
        let final = stream.finish(usage: TokenUsage(promptTokens: 3, completionTokens: 16), costUSD: nil, into: &buffer)

        let events = try ResponsesFixture.events(buffer)
        #expect(events.map(\.name).last == "response.incomplete")
        #expect(!events.map(\.name).contains("response.completed"))
        #expect(events[events.count - 2].data["item"]?["status"] == "incomplete")
        #expect(final["status"] == "incomplete")
        #expect(final["incomplete_details"] == ["reason": "max_output_tokens"])
        #expect(final["max_output_tokens"] == 16)
        #expect(events.last?.data["response"] == final)
    }

    @Test func failureAfterPartialTextIsFailedAndNeverCompleted() throws {
        var stream = try renderer()
        var buffer = ByteBuffer()
        stream.render(ChatDelta(text: "Half an ans"), into: &buffer)
        let error = GatewayError(
            status: .badGateway,
            message: "The upstream stream broke off.",
            type: "upstream_error",
            code: "upstream_stream_error"
        )
        let failed = stream.fail(error, into: &buffer)
        // A finish after the failure writes nothing and returns the failed response.
        let after = stream.finish(usage: nil, costUSD: nil, into: &buffer)

        let events = try ResponsesFixture.events(buffer)
        #expect(
            events.map(\.name) == [
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.failed",
            ]
        )
        #expect(events.map { $0.data["sequence_number"]?.intValue } == Array(0..<6))
        #expect(after == failed)
        #expect(events.last?.data["response"] == failed)
        #expect(failed["status"] == "failed")
        #expect(failed["error"] == ["code": "server_error", "message": "The upstream stream broke off."])
        #expect(failed["incomplete_details"] == .null)
        #expect(
            failed["output"]
                == (try ResponsesFixture.json(
                    #"[{"id":"msg_s_0","type":"message","status":"incomplete","role":"assistant","content":[{"type":"output_text","text":"Half an ans","annotations":[]}]}]"#
                ))
        )
    }

    @Test func rateLimitFailureHasOpenAIsCode() throws {
        var stream = try renderer()
        var buffer = ByteBuffer()
        let failed = stream.fail(GatewayError(status: .tooManyRequests, message: "Slow down.", type: "rate_limit_error"), into: &buffer)
        #expect(failed["error"]?["code"] == "rate_limit_exceeded")
        #expect(try ResponsesFixture.events(buffer).map(\.name) == ["response.created", "response.in_progress", "response.failed"])
    }

    @Test func sequenceNumbersIncreaseAcrossAMixedStream() throws {
        var stream = try renderer()
        var buffer = ByteBuffer()
        stream.start(into: &buffer)
        stream.start(into: &buffer)
        stream.render(ChatDelta(reasoning: "r"), into: &buffer)
        stream.render(ChatDelta(text: "t", toolCalls: [.init(index: 0, id: "c0", name: "f", arguments: "{")]), into: &buffer)
        stream.render(ChatDelta(toolCalls: [.init(index: 1, id: "c1", name: "g")]), into: &buffer)
        stream.render(ChatDelta(toolCalls: [.init(index: 0, arguments: "}")]), into: &buffer)
        _ = stream.finish(usage: nil, costUSD: nil, into: &buffer)
        _ = stream.finish(usage: nil, costUSD: nil, into: &buffer)

        let events = try ResponsesFixture.events(buffer)
        #expect(events.map { $0.data["sequence_number"]?.intValue } == Array(0..<events.count))
        #expect(events.filter { $0.name == "response.created" }.count == 1)
        #expect(events.filter { $0.name == "response.completed" }.count == 1)
        let added = events.filter { $0.name == "response.output_item.added" }.map { $0.data["output_index"]?.intValue }
        let done = events.filter { $0.name == "response.output_item.done" }.map { $0.data["output_index"]?.intValue }
        #expect(added == [0, 1, 2, 3])
        #expect(done == [0, 1, 2, 3])
        // The late piece of the first call still reaches its arguments.
        #expect(events.last?.data["response"]?["output"]?.arrayValue?[2]["arguments"] == "{}")
    }
}
