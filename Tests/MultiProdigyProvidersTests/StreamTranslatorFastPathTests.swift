import NIOCore
import Testing

@testable import MultiProdigyCore
@testable import MultiProdigyJSON
@testable import MultiProdigyProviders

/// The stream translators read their most common event (a piece of text) from its bytes, with no
/// JSON tree: these tests pin which events take that path, and that what it writes is the chunk
/// the tree path builds, byte for byte.
@Suite struct StreamTranslatorFastPathTests {
    /// Texts that exercise the string writer: quotes, backslashes, control characters, non-ASCII,
    /// an emoji (a surrogate pair when escaped), and nothing at all.
    static let texts = ["Hello", "say \"hi\"\\", "line\nbreak\ttab\u{01}", "héllo wörld", "🦊 fox", ""]

    @Test(arguments: texts)
    func theContentChunkIsTheTreesChunkByteForByte(text: String) {
        for logprobs in [false, true] {
            var choice: JSONValue = ["index": 3, "delta": ["content": .string(text)]]
            if logprobs { choice["logprobs"] = .null }
            choice["finish_reason"] = .null
            let tree = OpenAIChunk.make(id: "chatcmpl-1", created: 1_741_569_952, model: "m \"quoted\"", choices: [choice]).buffer
            let bytes = OpenAIChunk.content(
                text,
                index: 3,
                id: "chatcmpl-1",
                created: 1_741_569_952,
                model: "m \"quoted\"",
                withNullLogprobs: logprobs
            )
            #expect(String(buffer: bytes) == String(buffer: tree))
        }
    }

    // MARK: Anthropic

    @Test func anthropicTextDeltasAreReadFromTheirBytes() {
        #expect(
            AnthropicStreamTranslator.textDelta(
                in: Self.bytes(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi \"there\" 🦊"}}"#)
            )
                == "Hi \"there\" 🦊"
        )
        #expect(
            AnthropicStreamTranslator.textDelta(in: Self.bytes(#"{"delta":{"text":"","type":"text_delta"},"type":"content_block_delta"}"#))
                == ""
        )
    }

    @Test(arguments: [
        #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}"#,
        #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
        #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Hi"}}"#,
        #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}"#,
        #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        #"{"type":"content_block_delta","delta":{"type":"text_delta","text":42}}"#,
        #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"cut"#,
        #"[1,2]"#,
        // Duplicate keys: a tree keeps the last, so the scan declines rather than read the first.
        #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"},"type":"message_stop"}"#,
        #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"a","text":5}}"#,
    ])
    func anthropicEventsOtherThanTextTakeTheTreePath(event: String) {
        #expect(AnthropicStreamTranslator.textDelta(in: Self.bytes(event)) == nil)
    }

    @Test func anthropicTextEventsTranslateAsBefore() throws {
        var translator = AnthropicStreamTranslator(model: "claude", includeUsage: false, providerName: "claude", created: 7)
        let first = try translator.translate(
            SSEEvent(data: Self.bytes(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#))
        )
        #expect(first.count == 2, "the role chunk, then the text")
        let text = try Self.json(first[1])
        #expect(text["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue == "Hi")
        #expect(text["model"]?.stringValue == "claude")
        #expect(text["id"]?.stringValue == (try Self.json(first[0]))["id"]?.stringValue, "one id for every chunk")
    }

    // MARK: Ollama

    @Test func ollamaTextLinesAreReadFromTheirBytes() {
        #expect(
            OllamaStreamTranslator.textOnly(
                in: ByteBuffer(
                    string:
                        #"{"model":"llama3.2","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"Hel\nlo"},"done":false}"#
                )
            ) == "Hel\nlo"
        )
    }

    @Test(arguments: [
        #"{"model":"llama3.2","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":3}"#,
        #"{"model":"llama3.2","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{}}}]},"done":false}"#,
        #"{"error":"model crashed"}"#,
        #"{"error":"model crashed","message":{"content":"x"},"done":false}"#,
        #"{"model":"llama3.2","message":{"role":"assistant","content":"x"}}"#,
        #"{"model":"llama3.2","message":{"role":"assistant","content":7},"done":false}"#,
        #"not json"#,
        #"{"message":{"content":"a"},"message":{"role":"assistant"},"done":false}"#,
        #"{"message":{"content":"a"},"done":false,"done":true}"#,
    ])
    func ollamaLinesOtherThanTextTakeTheTreePath(line: String) {
        #expect(OllamaStreamTranslator.textOnly(in: ByteBuffer(string: line)) == nil)
    }

    // MARK: Hugging Face

    @Test func huggingFaceChunksThatNeedNothingPassAsTheyAre() throws {
        let raw =
            #"{"id":"x1","object":"chat.completion.chunk","created":1,"model":"tgi","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"logprobs":null,"finish_reason":null}]}"#
        #expect(HuggingFaceStreamTranslator.needsNoChange(ByteBuffer(string: raw)))
        var translator = HuggingFaceStreamTranslator()
        let out = try translator.translate(SSEEvent(data: Self.bytes(raw)))
        #expect(out == [.chunk(ByteBuffer(string: raw))], "the upstream's bytes, unchanged")
    }

    @Test(arguments: [
        #"{"id":"","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#,
        #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#,
        #"{"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"eos_token"}]}"#,
        #"{"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"f"}}]},"finish_reason":null}]}"#,
        #"{"id":"x","error":"overloaded"}"#,
        #"{"id":"x","choices":"nope"}"#,
        #"{"id":"x","choices":[{"index":0,"delta":{"content":"cut"#,
        #"{"id":"x","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null,"finish_reason":"eos_token"}]}"#,
        // A payload sent over several `data:` lines: the client's framing would break on its line break.
        "{\"id\":\"x\",\n\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}",
    ])
    func huggingFaceChunksThatNeedAChangeTakeTheTreePath(chunk: String) {
        #expect(!HuggingFaceStreamTranslator.needsNoChange(ByteBuffer(string: chunk)))
    }

    // MARK: Gemini

    @Test func geminiTextEventsAreReadFromTheirBytes() throws {
        let event =
            #"{"candidates":[{"content":{"parts":[{"text":"Hel"},{"text":"lo"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2},"modelVersion":"gemini-2.5-flash"}"#
        let read = try #require(GeminiStreamTranslator.textOnly(in: Self.bytes(event)))
        #expect(read.text == "Hello")
        #expect(read.usageMetadata.map { String(buffer: $0) } == #"{"promptTokenCount":4,"candidatesTokenCount":2}"#)
    }

    @Test(arguments: [
        #"{"candidates":[{"content":{"parts":[{"text":"done"}]},"finishReason":"STOP"}]}"#,
        #"{"candidates":[{"content":{"parts":[{"text":"hmm","thought":true}]}}]}"#,
        #"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]}}]}"#,
        #"{"candidates":[{"content":{"parts":[{"text":"a"}]},"index":1}]}"#,
        #"{"candidates":[{"content":{"parts":[{"text":"a"}]}},{"content":{"parts":[{"text":"b"}]},"index":1}]}"#,
        #"{"promptFeedback":{"blockReason":"SAFETY"}}"#,
        #"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}"#,
        #"{"usageMetadata":{"promptTokenCount":4}}"#,
        #"[{"candidates":[{"content":{"parts":[{"text":"a"}]}}]}]"#,
        #"{"candidates":[{"content":{"parts":[{"text":"a"}],"parts":[{"functionCall":{"name":"f"}}]}}]}"#,
        #"{"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":null,"finishReason":"STOP"}]}"#,
    ])
    func geminiEventsOtherThanRunningTextTakeTheTreePath(event: String) {
        #expect(GeminiStreamTranslator.textOnly(in: Self.bytes(event)) == nil)
    }

    @Test func geminiUsageReadFromTheBytesReachesTheUsageChunk() throws {
        var translator = GeminiStreamTranslator(
            providerName: "gem",
            includeUsage: true,
            choiceCount: 1,
            responses: GeminiResponseTranslator(model: "gemini-2.5-flash", makeToolCallID: { "call_1" })
        )
        var out = try translator.translate(
            SSEEvent(
                data: Self.bytes(
                    #"{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":1,"totalTokenCount":5}}"#
                )
            )
        )
        out += try translator.translate(
            SSEEvent(data: Self.bytes(#"{"candidates":[{"content":{"parts":[{"text":""}]},"finishReason":"STOP"}]}"#))
        )
        out += try translator.finish()
        #expect(out.last == .done)
        let usage = try Self.json(out[out.count - 2])["usage"]
        #expect(usage?["prompt_tokens"]?.intValue == 4)
        #expect(usage?["completion_tokens"]?.intValue == 1)
    }

    // MARK: Helpers

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func json(_ event: ChatStreamEvent) throws -> JSONValue {
        guard case .chunk(let buffer) = event else { throw ProviderError(kind: .protocolViolation, message: "not a chunk") }
        return try JSONValue.parse(buffer)
    }
}
