import MultiProdigyCore
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct MessagesStreamRendererTests {
    /// The events a renderer writes for `steps`, as text.
    private func events(
        estimatedInputTokens: Int = 12,
        _ steps: (inout MessagesStreamRenderer, inout ByteBuffer) -> Void
    ) -> String {
        var renderer = MessagesStreamRenderer(messageID: "msg_1", model: "fast", estimatedInputTokens: estimatedInputTokens)
        var buffer = ByteBuffer()
        steps(&renderer, &buffer)
        return String(buffer: buffer)
    }

    private static let messageStart = messageStartEvents(inputTokens: 12)

    private static func messageStartEvents(inputTokens: Int) -> String {
        "event: message_start\n"
            + #"data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"fast","content":[],"#
            + #""stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":\#(inputTokens),"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}"#
            + "\n\n"
            + "event: ping\n"
            + #"data: {"type":"ping"}"# + "\n\n"
    }

    private static let messageStop = "event: message_stop\n" + #"data: {"type":"message_stop"}"# + "\n\n"

    private static func event(_ name: String, _ data: String) -> String {
        "event: \(name)\ndata: \(data)\n\n"
    }

    @Test func textOnlyStream() {
        let stream = events { renderer, buffer in
            renderer.start(into: &buffer)
            renderer.render(ChatDelta(text: ""), into: &buffer)
            renderer.render(ChatDelta(text: "Hel"), into: &buffer)
            renderer.render(ChatDelta(text: "lo"), into: &buffer)
            renderer.render(ChatDelta(finishReason: "stop"), into: &buffer)
            renderer.render(ChatDelta(usage: TokenUsage(promptTokens: 12, completionTokens: 2)), into: &buffer)
            renderer.finish(usage: nil, costUSD: 0.5, into: &buffer)
        }
        #expect(
            stream
                == Self.messageStart
                + Self.event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
                + Self.event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#)
                + Self.event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}"#)
                + Self.event("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
                + Self.event(
                    "message_delta",
                    #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"#
                        + #""usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2,"cost_usd":0.5}}"#
                )
                + Self.messageStop
        )
    }

    @Test func eachDeltaIsWrittenWhenItComes() {
        var renderer = MessagesStreamRenderer(messageID: "msg_1", model: "fast", estimatedInputTokens: 12)
        var buffer = ByteBuffer()
        renderer.start(into: &buffer)
        #expect(String(buffer: buffer) == Self.messageStart)
        buffer.clear()
        renderer.render(ChatDelta(text: "a\"b\n"), into: &buffer)
        #expect(
            String(buffer: buffer)
                == Self.event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
                + Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\"b\n"}}"#
                )
        )
        buffer.clear()
        renderer.render(ChatDelta(text: "c"), into: &buffer)
        #expect(
            String(buffer: buffer)
                == Self.event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"c"}}"#)
        )
        buffer.clear()
        renderer.render(ChatDelta(finishReason: "length"), into: &buffer)
        #expect(buffer.readableBytes == 0)
    }

    @Test func textThenToolCallWithArgumentPieces() {
        let stream = events { renderer, buffer in
            renderer.start(into: &buffer)
            renderer.render(ChatDelta(text: "Let me check."), into: &buffer)
            renderer.render(ChatDelta(toolCalls: [.init(index: 0, id: "call_1", name: "get_weather", arguments: "")]), into: &buffer)
            renderer.render(ChatDelta(toolCalls: [.init(index: 0, arguments: #"{"city":"#)]), into: &buffer)
            renderer.render(ChatDelta(toolCalls: [.init(index: 0, arguments: #""Paris"}"#)]), into: &buffer)
            renderer.render(ChatDelta(finishReason: "tool_calls"), into: &buffer)
            renderer.finish(usage: TokenUsage(promptTokens: 30, completionTokens: 9), costUSD: nil, into: &buffer)
        }
        #expect(
            stream
                == Self.messageStart
                + Self.event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
                + Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check."}}"#
                )
                + Self.event("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
                + Self.event(
                    "content_block_start",
                    #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_1","name":"get_weather","input":{}}}"#
                )
                + Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#
                )
                + Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"#
                )
                + Self.event("content_block_stop", #"{"type":"content_block_stop","index":1}"#)
                + Self.event(
                    "message_delta",
                    #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"#
                        + #""usage":{"input_tokens":30,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":9}}"#
                )
                + Self.messageStop
        )
    }

    @Test func twoToolCallsInterleavedByIndexKeepTheirBlocks() {
        let stream = events(estimatedInputTokens: 5) { renderer, buffer in
            renderer.render(ChatDelta(toolCalls: [.init(index: 0, id: "call_a", name: "f", arguments: #"{"x""#)]), into: &buffer)
            renderer.render(
                ChatDelta(toolCalls: [.init(index: 1, id: "call_b", name: "g", arguments: #"{"y":2}"#), .init(index: 0, arguments: ":1}")]),
                into: &buffer
            )
            renderer.render(ChatDelta(finishReason: "tool_calls"), into: &buffer)
            renderer.finish(usage: nil, costUSD: nil, into: &buffer)
        }
        #expect(
            stream
                == Self.messageStartEvents(inputTokens: 5)
                + Self.event(
                    "content_block_start",
                    #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"call_a","name":"f","input":{}}}"#
                )
                + Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"x\""}}"#
                )
                + Self.event("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
                + Self.event(
                    "content_block_start",
                    #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_b","name":"g","input":{}}}"#
                )
                + Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"y\":2}"}}"#
                )
                + Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":":1}"}}"#
                )
                + Self.event("content_block_stop", #"{"type":"content_block_stop","index":1}"#)
                + Self.event(
                    "message_delta",
                    #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"#
                        + #""usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}"#
                )
                + Self.messageStop
        )
    }

    @Test func reasoningThenTextWithCachedUsageAndCost() {
        var usage = TokenUsage(promptTokens: 100, completionTokens: 5, cachedPromptTokens: 60)
        usage.cacheWriteTokens = 10
        let stream = events { renderer, buffer in
            renderer.start(into: &buffer)
            renderer.render(ChatDelta(reasoning: "Hmm"), into: &buffer)
            renderer.render(ChatDelta(reasoning: " ok"), into: &buffer)
            renderer.render(ChatDelta(text: "Answer"), into: &buffer)
            renderer.render(ChatDelta(finishReason: "length"), into: &buffer)
            renderer.finish(usage: usage, costUSD: 0.002, into: &buffer)
        }
        #expect(
            stream
                == Self.messageStart
                + Self.event(
                    "content_block_start",
                    #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#
                )
                + Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}}"#
                )
                + Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" ok"}}"#
                )
                + Self.event("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
                + Self.event("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#)
                + Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Answer"}}"#
                )
                + Self.event("content_block_stop", #"{"type":"content_block_stop","index":1}"#)
                + Self.event(
                    "message_delta",
                    #"{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"#
                        + #""usage":{"input_tokens":30,"cache_creation_input_tokens":10,"cache_read_input_tokens":60,"output_tokens":5,"cost_usd":0.002}}"#
                )
                + Self.messageStop
        )
    }

    @Test func failAfterPartialTextSendsAnErrorEventAndNoMessageStop() {
        let stream = events { renderer, buffer in
            renderer.start(into: &buffer)
            renderer.render(ChatDelta(text: "Par"), into: &buffer)
            renderer.fail(
                GatewayError(status: .badGateway, message: "The upstream stopped answering.", type: "upstream_error"),
                into: &buffer
            )
            renderer.render(ChatDelta(text: "is"), into: &buffer)
            renderer.finish(usage: nil, costUSD: nil, into: &buffer)
            renderer.fail(GatewayError(status: .gatewayTimeout, message: "again", type: "upstream_error"), into: &buffer)
        }
        #expect(
            stream
                == Self.messageStart
                + Self.event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
                + Self.event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Par"}}"#)
                + Self.event("error", #"{"type":"error","error":{"type":"api_error","message":"The upstream stopped answering."}}"#)
        )
        #expect(!stream.contains("message_stop"))
    }

    @Test func refusalPiecesAreTextWithStopReasonRefusal() {
        let stream = events { renderer, buffer in
            renderer.render(ChatDelta(refusal: "No."), into: &buffer)
            renderer.render(ChatDelta(finishReason: "stop"), into: &buffer)
            renderer.finish(usage: TokenUsage(promptTokens: 12, completionTokens: 1), costUSD: nil, into: &buffer)
        }
        #expect(stream.contains(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"No."}}"#))
        #expect(stream.contains(#""delta":{"stop_reason":"refusal","stop_sequence":null}"#))
    }

    @Test func finishWithoutContentStillStartsAndStops() {
        let stream = events { renderer, buffer in
            renderer.finish(usage: nil, costUSD: nil, into: &buffer)
            renderer.finish(usage: nil, costUSD: nil, into: &buffer)
        }
        #expect(
            stream
                == Self.messageStart
                + Self.event(
                    "message_delta",
                    #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"#
                        + #""usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}"#
                )
                + Self.messageStop
        )
    }
}
