import MultiProdigyCore
import MultiProdigyJSON
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct ResponsesRendererTests {
    @Test func textAnswerIsACompletedResponse() throws {
        let request = try ResponsesFixture.request(#"{"model":"fast","input":"Hi","instructions":"Be brief.","metadata":{"k":"v"}}"#)
        let answer = ChatAnswer(
            id: "chatcmpl-1",
            created: 1,
            model: "fast",
            text: "Hello!",
            finishReason: "stop",
            usage: TokenUsage(promptTokens: 12, completionTokens: 3)
        )
        let response = ResponsesRenderer.response(from: answer, request: request, id: "resp_abc", createdAt: 1_700_000_000)
        #expect(
            response
                == (try ResponsesFixture.json(
                    #"""
                    {"id":"resp_abc","object":"response","created_at":1700000000,"status":"completed","error":null,"incomplete_details":null,
                     "instructions":"Be brief.","max_output_tokens":null,"model":"fast",
                     "output":[{"id":"msg_abc_0","type":"message","status":"completed","role":"assistant",
                                "content":[{"type":"output_text","text":"Hello!","annotations":[]}]}],
                     "parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,
                     "temperature":null,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":null,
                     "usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":0,"cache_write_tokens":0},"output_tokens":3,
                              "output_tokens_details":{"reasoning_tokens":0},"total_tokens":15},
                     "user":null,"metadata":{"k":"v"}}
                    """#
                ))
        )
    }

    @Test func reasoningTextAndToolCallsBecomeItemsInOrder() throws {
        let answer = ChatAnswer(
            id: "c",
            created: 1,
            model: "m",
            text: "Let me check.",
            reasoning: "The user wants weather.",
            toolCalls: [
                ChatToolCall(id: "call_1", name: "weather", arguments: #"{"city":"Paris"}"#),
                ChatToolCall(id: "call_2", name: "clock", arguments: "{}"),
            ],
            finishReason: "tool_calls"
        )
        #expect(
            ResponsesRenderer.outputItems(from: answer, responseID: "resp_x")
                == (try ResponsesFixture.json(
                    #"""
                    [{"id":"rs_x_0","type":"reasoning","status":"completed","summary":[],"content":[{"type":"reasoning_text","text":"The user wants weather."}]},
                     {"id":"msg_x_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Let me check.","annotations":[]}]},
                     {"id":"fc_x_2","type":"function_call","status":"completed","arguments":"{\"city\":\"Paris\"}","call_id":"call_1","name":"weather"},
                     {"id":"fc_x_3","type":"function_call","status":"completed","arguments":"{}","call_id":"call_2","name":"clock"}]
                    """#
                ).arrayValue)
        )
    }

    @Test func refusalIsAMessagePart() throws {
        let answer = ChatAnswer(id: "c", created: 1, model: "m", refusal: "I can't help with that.", finishReason: "stop")
        #expect(
            ResponsesRenderer.outputItems(from: answer, responseID: "resp_x")
                == (try ResponsesFixture.json(
                    #"[{"id":"msg_x_0","type":"message","status":"completed","role":"assistant","content":[{"type":"refusal","refusal":"I can't help with that."}]}]"#
                ).arrayValue)
        )
    }

    @Test(arguments: [("length", "max_output_tokens"), ("content_filter", "content_filter")])
    func cutAnswerIsIncomplete(finishReason: String, reason: String) throws {
        let request = try ResponsesFixture.request(#"{"model":"m","input":"Hi","max_output_tokens":16}"#)
        let answer = ChatAnswer(id: "c", created: 1, model: "m", text: "Once upon a", finishReason: finishReason)
        let response = ResponsesRenderer.response(from: answer, request: request, id: "resp_1", createdAt: 5)
        #expect(response["status"] == "incomplete")
        #expect(response["incomplete_details"] == ["reason": .string(reason)])
        #expect(response["max_output_tokens"] == 16)
        #expect(response["output"]?.arrayValue?.first?["status"] == "incomplete")
        #expect(response["usage"] == .null)
    }

    @Test func usageCountsCachedAndReasoningTokensAndCost() throws {
        var usage = TokenUsage(promptTokens: 1000, completionTokens: 250, cachedPromptTokens: 600, reasoningTokens: 200)
        usage.cacheWriteTokens = 100
        #expect(
            ResponsesRenderer.usage(usage, costUSD: 0.0125)
                == (try ResponsesFixture.json(
                    #"""
                    {"input_tokens":1000,"input_tokens_details":{"cached_tokens":600,"cache_write_tokens":100},"output_tokens":250,
                     "output_tokens_details":{"reasoning_tokens":200},"total_tokens":1250,"cost_usd":0.0125}
                    """#
                ))
        )
        #expect(ResponsesRenderer.usage(nil, costUSD: 0.5) == .null)
    }

    @Test func responseCarriesTheAnswersCost() throws {
        let request = try ResponsesFixture.request(#"{"model":"m","input":"Hi"}"#)
        let answer = ChatAnswer(
            id: "c",
            created: 1,
            model: "m",
            text: "ok",
            usage: TokenUsage(promptTokens: 2, completionTokens: 1),
            costUSD: 0.000003
        )
        let response = ResponsesRenderer.response(from: answer, request: request, id: "resp_1", createdAt: 5)
        #expect(response["usage"]?["cost_usd"]?.doubleValue == 0.000003)
        #expect(response["status"] == "completed")
    }

    @Test func outputItemsExtendTheConversation() throws {
        // The next turn's history is this turn's input items and output items, which translate back
        // into the chat conversation that produced them.
        let request = try ResponsesFixture.request(#"{"model":"m","input":"Weather?","tools":[{"type":"function","name":"weather"}]}"#)
        let answer = ChatAnswer(
            id: "c",
            created: 1,
            model: "m",
            toolCalls: [ChatToolCall(id: "call_1", name: "weather", arguments: "{}")],
            finishReason: "tool_calls"
        )
        let history = request.inputItems + ResponsesRenderer.outputItems(from: answer, responseID: "resp_1")
        let next = try ResponsesFixture.request(
            #"{"model":"m","previous_response_id":"resp_1","input":[{"type":"function_call_output","call_id":"call_1","output":"sunny"}]}"#
        )
        #expect(
            try JSONValue.parse(next.chatBody(history: history))["messages"]
                == ResponsesFixture.json(
                    #"""
                    [{"role":"user","content":"Weather?"},
                     {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{}"}}]},
                     {"role":"tool","tool_call_id":"call_1","content":"sunny"}]
                    """#
                )
        )
    }
}
