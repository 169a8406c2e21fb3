import MultiProdigyCore
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct MessagesResponseRendererTests {
    private func render(_ answer: ChatAnswer) -> String {
        String(buffer: MessagesResponseRenderer.message(from: answer))
    }

    @Test func textAnswerWithUsageAndCost() {
        var usage = TokenUsage(promptTokens: 100, completionTokens: 7, cachedPromptTokens: 30)
        usage.cacheWriteTokens = 20
        let answer = ChatAnswer(
            id: "chatcmpl-AbC123",
            created: 1,
            model: "fast",
            text: "Hi there",
            finishReason: "stop",
            usage: usage,
            costUSD: 0.00125
        )
        #expect(
            render(answer)
                == #"{"id":"msg_AbC123","type":"message","role":"assistant","model":"fast","content":[{"type":"text","text":"Hi there"}],"#
                + #""stop_reason":"end_turn","stop_sequence":null,"#
                + #""usage":{"input_tokens":50,"cache_creation_input_tokens":20,"cache_read_input_tokens":30,"output_tokens":7,"cost_usd":0.00125}}"#
        )
    }

    @Test func toolCallsBecomeToolUseBlocksAndBadArgumentsBecomeAnEmptyObject() {
        let answer = ChatAnswer(
            id: "chatcmpl-1",
            created: 1,
            model: "m",
            text: "Checking.",
            toolCalls: [
                ChatToolCall(id: "call_a", name: "get_weather", arguments: #"{"city":"Paris","days":[1,2]}"#),
                ChatToolCall(id: "call_b", name: "broken", arguments: #"{"city":"#),
                ChatToolCall(id: "call_c", name: "array", arguments: "[1,2]"),
                ChatToolCall(id: "call_d", name: "empty", arguments: ""),
            ],
            finishReason: "tool_calls",
            usage: TokenUsage(promptTokens: 10, completionTokens: 20)
        )
        #expect(
            render(answer)
                == #"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Checking."},"#
                + #"{"type":"tool_use","id":"call_a","name":"get_weather","input":{"city":"Paris","days":[1,2]}},"#
                + #"{"type":"tool_use","id":"call_b","name":"broken","input":{}},"#
                + #"{"type":"tool_use","id":"call_c","name":"array","input":{}},"#
                + #"{"type":"tool_use","id":"call_d","name":"empty","input":{}}],"#
                + #""stop_reason":"tool_use","stop_sequence":null,"#
                + #""usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":20}}"#
        )
    }

    @Test(
        arguments: [
            ("stop", false, "end_turn"),
            ("length", false, "max_tokens"),
            ("tool_calls", true, "tool_use"),
            ("content_filter", false, "refusal"),
            (nil, false, "end_turn"),
            ("stop", true, "tool_use"),
            ("something_new", false, "end_turn"),
        ] as [(String?, Bool, String)]
    )
    func stopReasons(finishReason: String?, calledTool: Bool, stopReason: String) {
        let answer = ChatAnswer(
            id: "c",
            created: 1,
            model: "m",
            toolCalls: calledTool ? [ChatToolCall(id: "t", name: "f", arguments: "{}")] : [],
            finishReason: finishReason
        )
        #expect(render(answer).contains(#""stop_reason":"\#(stopReason)","#))
    }

    @Test func reasoningBecomesAThinkingBlockBeforeTheText() {
        let answer = ChatAnswer(id: "chatcmpl-x", created: 1, model: "m", text: "42", reasoning: "Let me think.", finishReason: "stop")
        #expect(
            render(answer)
                == #"{"id":"msg_x","type":"message","role":"assistant","model":"m","content":[{"type":"thinking","thinking":"Let me think.","signature":""},"#
                + #"{"type":"text","text":"42"}],"stop_reason":"end_turn","stop_sequence":null,"#
                + #""usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}"#
        )
    }

    @Test func refusalIsTextWithStopReasonRefusal() {
        let answer = ChatAnswer(id: "c", created: 1, model: "m", refusal: "I can't help with that.", finishReason: "stop")
        let body = render(answer)
        #expect(body.contains(#""content":[{"type":"text","text":"I can't help with that."}],"stop_reason":"refusal""#))
    }

    @Test func usageNeverGoesNegative() {
        var usage = TokenUsage(promptTokens: 10, completionTokens: 1, cachedPromptTokens: 10)
        usage.cacheWriteTokens = 5
        let answer = ChatAnswer(id: "c", created: 1, model: "m", text: "x", usage: usage)
        #expect(
            render(answer).contains(
                #""usage":{"input_tokens":0,"cache_creation_input_tokens":5,"cache_read_input_tokens":10,"output_tokens":1}"#
            )
        )
    }

    @Test(arguments: [
        ("chatcmpl-9f3KZ", "msg_9f3KZ"),
        ("msg_01XFDUDYJgAACzvnptvVoYEL", "msg_01XFDUDYJgAACzvnptvVoYEL"),
        ("chatcmpl-a-b_c.d\"e", "msg_abcde"),
        ("gen-1700000000-abc", "msg_gen1700000000abc"),
    ])
    func messageIDKeepsTheChatIDsLettersAndDigits(chatID: String, messageID: String) {
        #expect(MessagesResponseRenderer.messageID(fromChatID: chatID) == messageID)
    }

    @Test func emptyChatIDGetsARandomMessageID() {
        let first = MessagesResponseRenderer.messageID(fromChatID: "")
        let second = MessagesResponseRenderer.messageID(fromChatID: "chatcmpl-")
        #expect(first.hasPrefix("msg_") && first.count == 28)
        #expect(second.hasPrefix("msg_") && second.count == 28)
        #expect(first != second)
        #expect(first.dropFirst(4).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
    }

    @Test func longChatIDIsCut() {
        let id = MessagesResponseRenderer.messageID(fromChatID: String(repeating: "a", count: 500))
        #expect(id == "msg_" + String(repeating: "a", count: 48))
    }
}
