import MultiProdigyCore
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct ChatAnswerTests {
    @Test func readsTextFinishReasonUsageAndCost() throws {
        let body = ByteBuffer(
            string: #"""
                {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"fast",
                 "choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,
                          "prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2},
                          "cost_usd":0.00015}}
                """#
        )
        let answer = try #require(ChatAnswer.read(body))
        #expect(answer.id == "chatcmpl-1")
        #expect(answer.created == 1_700_000_000)
        #expect(answer.model == "fast")
        #expect(answer.text == "Hi there")
        #expect(answer.finishReason == "stop")
        #expect(answer.toolCalls.isEmpty)
        #expect(answer.usage?.promptTokens == 12)
        #expect(answer.usage?.completionTokens == 3)
        #expect(answer.usage?.cachedPromptTokens == 4)
        #expect(answer.usage?.reasoningTokens == 2)
        #expect(answer.costUSD == 0.00015)
    }

    @Test func readsToolCallsAndNullContent() throws {
        let body = ByteBuffer(
            string: #"""
                {"id":"c","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,
                 "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                               {"id":"call_2","type":"function","function":{"name":"now","arguments":""}}]},
                 "finish_reason":"tool_calls"}]}
                """#
        )
        let answer = try #require(ChatAnswer.read(body))
        #expect(answer.text == nil)
        #expect(
            answer.toolCalls == [
                ChatToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#),
                ChatToolCall(id: "call_2", name: "now", arguments: ""),
            ]
        )
        #expect(answer.finishReason == "tool_calls")
        #expect(answer.usage == nil)
        #expect(answer.costUSD == nil)
    }

    @Test func readsContentPartsAndReasoning() throws {
        let body = ByteBuffer(
            string:
                #"{"id":"c","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"reasoning_content":"think"},"finish_reason":"length"}]}"#
        )
        let answer = try #require(ChatAnswer.read(body))
        #expect(answer.text == "ab")
        #expect(answer.reasoning == "think")
        #expect(answer.finishReason == "length")
    }

    @Test func notAnObjectIsNil() {
        #expect(ChatAnswer.read(ByteBuffer(string: "[1]")) == nil)
        #expect(ChatAnswer.read(ByteBuffer(string: "{")) == nil)
    }
}

@Suite struct ChatDeltaTests {
    @Test func readsTextPiece() throws {
        let delta = try #require(
            ChatDelta.read(ByteBuffer(string: #"{"id":"c","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#))
        )
        #expect(delta == ChatDelta(text: "Hel"))
    }

    @Test func readsToolCallPieces() throws {
        let first = try #require(
            ChatDelta.read(
                ByteBuffer(
                    string:
                        #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_9","type":"function","function":{"name":"f","arguments":""}}]}}]}"#
                )
            )
        )
        #expect(first.toolCalls == [.init(index: 1, id: "call_9", name: "f", arguments: "")])
        let next = try #require(
            ChatDelta.read(
                ByteBuffer(string: #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"a\""}}]}}]}"#)
            )
        )
        #expect(next.toolCalls == [.init(index: 1, arguments: #"{"a""#)])
    }

    @Test func readsFinishReasonAndUsageChunk() throws {
        let finish = try #require(
            ChatDelta.read(ByteBuffer(string: #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#))
        )
        #expect(finish == ChatDelta(finishReason: "stop"))
        let usage = try #require(
            ChatDelta.read(ByteBuffer(string: #"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#))
        )
        #expect(usage.usage == TokenUsage(promptTokens: 5, completionTokens: 7))
        #expect(usage.text == nil)
    }

    @Test func ignoresOtherChoices() throws {
        let delta = try #require(
            ChatDelta.read(
                ByteBuffer(string: #"{"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine"}}]}"#)
            )
        )
        #expect(delta.text == "mine")
    }
}
