import Foundation
import Testing

extension OneSuiteAtATime {
    /// A non-streaming answer assembled from an upstream's stream (`non_streaming: assembled`) is the
    /// answer the same upstream gives without streaming (`non_streaming: direct`), field by field, for
    /// every provider type: the same fake answer in both wire forms, asked through two gateways.
    ///
    /// The only fields allowed to differ are the ones no upstream sends in both forms: `created` where
    /// the gateway stamps the time, ids the gateway makes up where the upstream has none, and what a
    /// whole answer has null or empty that its stream never carries: OpenAI's empty
    /// `message.annotations`, vLLM's unused fields (`service_tier`, `system_fingerprint`, `refusal`,
    /// `tool_calls: []`...), TGI's `function.description: null`. The fields a fixture is about (its
    /// `carried`) must be in both answers, so that comparing them never compares two absences.
    @Suite struct AssembledAnswerFidelityTests {
        /// One provider type's fixture: the same answer as a whole body and as a stream.
        struct Fixture: Sendable, CustomTestStringConvertible {
            let type: String
            /// The provider block, with `{PORT0}` for the fake.
            let provider: String
            let upstreamModel: String
            /// The fake: the whole answer for a non-streaming call, the stream for a streaming one.
            let upstream: FakeBehaviour
            /// The client's extra request fields.
            let requestExtra: String
            /// Fields that the gateway makes up on each call (`created`, ids), as key paths.
            let madeUp: [String]
            /// Fields left out of an assembled answer, as key paths, with the value the whole answer has.
            let absentWhenAssembled: [String]
            /// Fields both answers must carry (null counts), as key paths: what the fixture is about.
            let carried: [String]

            var testDescription: String { type }
        }

        private static let tools =
            #","tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]"#

        static let openAI = Fixture(
            type: "openai",
            provider: "  up: {type: openai, base_url: \"http://127.0.0.1:{PORT0}/v1\", locality: local}\n",
            upstreamModel: "gpt-4o-mini",
            upstream: .byStreamFlag(
                streaming: FakeBehaviourBox(.stream(events: OpenAIWire.chunks)),
                plain: FakeBehaviourBox(.respond(status: .ok, body: OpenAIWire.completion))
            ),
            requestExtra: #","n":3,"logprobs":true"# + tools,
            madeUp: [],
            absentWhenAssembled: ["choices.0.message.annotations", "choices.1.message.annotations", "choices.2.message.annotations"],
            carried: ["service_tier", "system_fingerprint"]
        )

        static let anthropic = Fixture(
            type: "anthropic",
            provider: "  up: {type: anthropic, base_url: \"http://127.0.0.1:{PORT0}\", api_key: test-key, locality: local}\n",
            upstreamModel: "claude-sonnet-4-5",
            upstream: .byStreamFlag(
                streaming: FakeBehaviourBox(.chunked(contentType: "text/event-stream", chunks: AnthropicWire.events)),
                plain: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: AnthropicWire.message))
            ),
            requestExtra: tools,
            madeUp: ["created"],
            absentWhenAssembled: [],
            // The translator writes no `system_fingerprint` or `service_tier`: both answers lack them.
            carried: []
        )

        static let gemini = Fixture(
            type: "gemini",
            provider: "  up: {type: gemini, base_url: \"http://127.0.0.1:{PORT0}/\", api_key: test-key, locality: local}\n",
            upstreamModel: "gemini-2.5-flash",
            upstream: .byPath(
                [
                    (
                        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
                        FakeBehaviourBox(.chunked(contentType: "text/event-stream", chunks: GeminiWire.events))
                    )
                ],
                otherwise: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: GeminiWire.response))
            ),
            requestExtra: tools,
            madeUp: ["created"],
            absentWhenAssembled: [],
            // The translator writes no `system_fingerprint` or `service_tier`: both answers lack them.
            carried: []
        )

        static let ollama = Fixture(
            type: "ollama",
            provider: "  up: {type: ollama, base_url: \"http://127.0.0.1:{PORT0}\"}\n",
            upstreamModel: "llama3.2:3b",
            upstream: .byStreamFlag(
                streaming: FakeBehaviourBox(.chunked(contentType: "application/x-ndjson", chunks: OllamaWire.lines)),
                plain: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: OllamaWire.whole))
            ),
            requestExtra: tools,
            // Ollama has no ids: the gateway makes up the completion's and the tool call's.
            madeUp: ["created", "id", "choices.0.message.tool_calls.0.id"],
            absentWhenAssembled: [],
            // The translator writes no `system_fingerprint` or `service_tier`: both answers lack them.
            carried: []
        )

        static let huggingFace = Fixture(
            type: "huggingface",
            provider: "  up: {type: huggingface, base_url: \"http://127.0.0.1:{PORT0}\", locality: local}\n",
            upstreamModel: "tgi",
            upstream: .byStreamFlag(
                streaming: FakeBehaviourBox(.stream(events: TGIWire.chunks)),
                plain: FakeBehaviourBox(.respond(status: .ok, body: TGIWire.completion))
            ),
            requestExtra: #","logprobs":true"#,
            // TGI sends an empty id: the gateway makes one up.
            madeUp: ["id"],
            absentWhenAssembled: [],
            // TGI has no service tiers.
            carried: ["system_fingerprint"]
        )

        /// TGI 3.2 and later calling a tool, whole and streamed (``TGIToolCallWire``).
        static let huggingFaceToolCall = Fixture(
            type: "huggingface, a tool call",
            provider: huggingFace.provider,
            upstreamModel: "tgi",
            upstream: .byStreamFlag(
                streaming: FakeBehaviourBox(.chunked(contentType: "text/event-stream", chunks: TGIToolCallWire.events)),
                plain: FakeBehaviourBox(.respond(status: .ok, body: TGIToolCallWire.completion))
            ),
            requestExtra: tools,
            // TGI sends an empty id: the gateway makes one up. The tool call's id ("0") is TGI's in both.
            madeUp: ["id"],
            // TGI's whole tool call has `function.description: null`; the pieces of its stream never do.
            absentWhenAssembled: ["choices.0.message.tool_calls.0.function.description"],
            carried: ["system_fingerprint", "choices.0.message.tool_calls"]
        )

        /// vLLM serving a reasoning model, whole and streamed (``VLLMWire``).
        static let vllmReasoning = Fixture(
            type: "openai, vLLM with reasoning",
            provider: openAI.provider,
            upstreamModel: "Qwen/Qwen3-8B",
            upstream: .byStreamFlag(
                streaming: FakeBehaviourBox(.stream(events: VLLMWire.chunks)),
                plain: FakeBehaviourBox(.respond(status: .ok, body: VLLMWire.completion))
            ),
            requestExtra: "",
            madeUp: [],
            // vLLM's whole answer has every field of its schema, null or empty when unused; its chunks only the fields set.
            absentWhenAssembled: [
                "service_tier", "system_fingerprint", "prompt_logprobs", "kv_transfer_params", "usage.prompt_tokens_details",
                "choices.0.message.refusal", "choices.0.message.annotations", "choices.0.message.audio",
                "choices.0.message.function_call", "choices.0.message.tool_calls",
            ],
            carried: ["choices.0.message.reasoning_content", "choices.0.stop_reason"]
        )

        /// A server that ignores `"stream": true` and answers OpenAI's whole answer of three choices (a tool call, log
        /// probabilities, a refusal) to every request: the gateway splits it into chunks and assembles them again.
        static let openAIIgnoringStream = Fixture(
            type: "openai, a server that ignores stream",
            provider: openAI.provider,
            upstreamModel: "gpt-4o-mini",
            upstream: .respond(status: .ok, body: OpenAIWire.completion),
            requestExtra: openAI.requestExtra,
            madeUp: [],
            absentWhenAssembled: openAI.absentWhenAssembled,
            carried: [
                "service_tier", "system_fingerprint", "choices.0.logprobs.content", "choices.1.message.tool_calls",
                "choices.2.message.refusal", "choices.2.logprobs.refusal",
            ]
        )

        /// Anthropic thinking before it writes and calls a tool (``AnthropicThinkingWire``): the translator leaves
        /// thinking out of both answers, and the tool call keeps `index` 0 though its block is the third.
        static let anthropicThinking = Fixture(
            type: "anthropic, thinking first",
            provider: anthropic.provider,
            upstreamModel: "claude-sonnet-4-5",
            upstream: .byStreamFlag(
                streaming: FakeBehaviourBox(.chunked(contentType: "text/event-stream", chunks: AnthropicThinkingWire.events)),
                plain: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: AnthropicThinkingWire.message))
            ),
            requestExtra: tools,
            madeUp: ["created"],
            absentWhenAssembled: [],
            carried: ["choices.0.message.tool_calls"]
        )

        /// Gemini 3 with a thought summary, a signed function call and thinking tokens (``GeminiThinkingWire``): the
        /// summary is left out of both answers, the signature and the reasoning tokens are in both.
        static let geminiThinking = Fixture(
            type: "gemini, thinking",
            provider: gemini.provider,
            upstreamModel: "gemini-3-flash-preview",
            upstream: .byPath(
                [
                    (
                        "/v1beta/models/gemini-3-flash-preview:streamGenerateContent",
                        FakeBehaviourBox(.chunked(contentType: "text/event-stream", chunks: GeminiThinkingWire.events))
                    )
                ],
                otherwise: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: GeminiThinkingWire.response))
            ),
            requestExtra: tools,
            madeUp: ["created"],
            absentWhenAssembled: [],
            carried: ["usage.completion_tokens_details.reasoning_tokens", "choices.0.message.tool_calls.0.extra_content"]
        )

        /// Ollama serving a thinking model (``OllamaThinkingWire``): the translator leaves `thinking` out of both answers.
        static let ollamaThinking = Fixture(
            type: "ollama, thinking",
            provider: ollama.provider,
            upstreamModel: "qwen3:8b",
            upstream: .byStreamFlag(
                streaming: FakeBehaviourBox(.chunked(contentType: "application/x-ndjson", chunks: OllamaThinkingWire.lines)),
                plain: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: OllamaThinkingWire.whole))
            ),
            requestExtra: "",
            madeUp: ["created", "id"],
            absentWhenAssembled: [],
            carried: []
        )

        /// Anthropic calling a tool without a word (``AnthropicToolCallOnlyWire``).
        static let anthropicToolCallOnly = Fixture(
            type: "anthropic, a tool call only",
            provider: anthropic.provider,
            upstreamModel: "claude-sonnet-4-5",
            upstream: .byStreamFlag(
                streaming: FakeBehaviourBox(.chunked(contentType: "text/event-stream", chunks: AnthropicToolCallOnlyWire.events)),
                plain: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: AnthropicToolCallOnlyWire.message))
            ),
            requestExtra: tools,
            madeUp: ["created"],
            absentWhenAssembled: [],
            carried: ["choices.0.message.content", "choices.0.message.tool_calls"]
        )

        /// Gemini calling a tool without a word (``GeminiToolCallOnlyWire``).
        static let geminiToolCallOnly = Fixture(
            type: "gemini, a tool call only",
            provider: gemini.provider,
            upstreamModel: "gemini-2.5-flash",
            upstream: .byPath(
                [
                    (
                        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
                        FakeBehaviourBox(.chunked(contentType: "text/event-stream", chunks: GeminiToolCallOnlyWire.events))
                    )
                ],
                otherwise: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: GeminiToolCallOnlyWire.response))
            ),
            requestExtra: tools,
            madeUp: ["created"],
            absentWhenAssembled: [],
            carried: ["choices.0.message.content", "choices.0.message.tool_calls"]
        )

        /// Ollama calling a tool without a word (``OllamaToolCallOnlyWire``).
        static let ollamaToolCallOnly = Fixture(
            type: "ollama, a tool call only",
            provider: ollama.provider,
            upstreamModel: "llama3.2:3b",
            upstream: .byStreamFlag(
                streaming: FakeBehaviourBox(.chunked(contentType: "application/x-ndjson", chunks: OllamaToolCallOnlyWire.lines)),
                plain: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: OllamaToolCallOnlyWire.whole))
            ),
            requestExtra: tools,
            madeUp: ["created", "id", "choices.0.message.tool_calls.0.id"],
            absentWhenAssembled: [],
            carried: ["choices.0.message.content", "choices.0.message.tool_calls"]
        )

        @Test(
            arguments: [
                openAI, anthropic, gemini, ollama, huggingFace, huggingFaceToolCall, vllmReasoning, openAIIgnoringStream,
                anthropicThinking, geminiThinking, ollamaThinking,
            ]
        )
        func anAssembledAnswerIsTheWholeAnswerFieldByField(_ fixture: Fixture) async throws {
            try await Self.expectAssembledAnswerIsWholeAnswer(fixture)
        }

        /// A whole answer that only calls a tool has `content: null` (OpenAI's convention, which every translator's
        /// whole answer follows); the assembled one must too, though the translated stream began with a role chunk
        /// that said `"content": ""` before it knew no text would come.
        @Test(arguments: [anthropicToolCallOnly, geminiToolCallOnly, ollamaToolCallOnly])
        func anAnswerThatOnlyCallsAToolIsAssembledAsTheWholeAnswer(_ fixture: Fixture) async throws {
            try await Self.expectAssembledAnswerIsWholeAnswer(fixture)
        }

        /// Asks the same request of two gateways in front of `fixture`'s fake, one `non_streaming: direct` and one
        /// `non_streaming: assembled`, and expects the two answers to be the same field by field, but for the fields
        /// the fixture says are made up or absent when assembled; its `carried` fields must be in both.
        private static func expectAssembledAnswerIsWholeAnswer(_ fixture: Fixture) async throws {
            let request = #"{"model":"m","messages":[{"role":"user","content":"Weather in Paris?"}]"# + fixture.requestExtra + "}"
            var answers: [String: [String: Any]] = [:]
            for mode in ["direct", "assembled"] {
                let upstream = FakeUpstream(fixture.upstream)
                let yaml =
                    "providers:\n\(fixture.provider)models:\n  m: {provider: up, model: \"\(fixture.upstreamModel)\", non_streaming: \(mode)}\n"
                try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
                    let reply = try await gateway.send(body: request)
                    #expect(reply.status == 200, "\(fixture.type) \(mode): \(reply.body)")
                    answers[mode] = reply.json
                    #expect(upstream.requests.count == 1)
                }
            }
            var direct = try #require(answers["direct"])
            var assembled = try #require(answers["assembled"])
            #expect((direct["choices"] as? [Any])?.isEmpty == false, "the fixture has an answer")
            for path in fixture.carried {
                #expect(Self.hasValue(at: path, in: direct), "\(fixture.type): \(path) is in the whole answer")
                #expect(Self.hasValue(at: path, in: assembled), "\(fixture.type): \(path) is in the assembled answer")
            }
            for path in fixture.madeUp {
                let a = Self.remove(path, from: &direct)
                let b = Self.remove(path, from: &assembled)
                #expect(a != nil && b != nil, "\(fixture.type): \(path) is in both answers")
                if path == "created", let a = a as? Int, let b = b as? Int { #expect(abs(a - b) <= 5) }
                if let a = a as? String, let b = b as? String { #expect(a.prefix(5) == b.prefix(5), "\(path): \(a) and \(b)") }
            }
            for path in fixture.absentWhenAssembled {
                #expect(Self.remove(path, from: &assembled) == nil, "\(fixture.type): \(path) is not assembled")
                #expect(Self.remove(path, from: &direct) != nil, "\(fixture.type): \(path) is in the whole answer")
            }
            let differences = Self.differences(direct, assembled, at: "")
            #expect(differences.isEmpty, "\(fixture.type): \(differences.joined(separator: "; "))")
        }

        /// Whether `object` has a value at a dotted `path` (array indexes as numbers); a null counts.
        private static func hasValue(at path: String, in object: [String: Any]) -> Bool {
            var copy = object
            return remove(path, from: &copy) != nil
        }

        /// Removes the value at a dotted `path` (array indexes as numbers) and returns it.
        private static func remove(_ path: String, from object: inout [String: Any]) -> Any? {
            var value: Any = object
            let removed = remove(path.split(separator: ".").map(String.init)[...], from: &value)
            object = value as? [String: Any] ?? object
            return removed
        }

        private static func remove(_ keys: ArraySlice<String>, from value: inout Any) -> Any? {
            guard let key = keys.first else { return nil }
            if var dictionary = value as? [String: Any] {
                let removed: Any?
                if keys.count == 1 {
                    removed = dictionary.removeValue(forKey: key)
                } else {
                    guard var inner = dictionary[key] else { return nil }
                    removed = remove(keys.dropFirst(), from: &inner)
                    dictionary[key] = inner
                }
                value = dictionary
                return removed
            }
            if var array = value as? [Any], let index = Int(key), array.indices.contains(index), keys.count > 1 {
                var inner = array[index]
                let removed = remove(keys.dropFirst(), from: &inner)
                array[index] = inner
                value = array
                return removed
            }
            return nil
        }

        /// The paths where `a` and `b` differ, with both values.
        private static func differences(_ a: Any?, _ b: Any?, at path: String) -> [String] {
            if let a = a as? [String: Any], let b = b as? [String: Any] {
                return Set(a.keys).union(b.keys).sorted().flatMap { differences(a[$0], b[$0], at: path + "." + $0) }
            }
            if let a = a as? [Any], let b = b as? [Any], a.count == b.count {
                return zip(a, b).enumerated().flatMap { differences($1.0, $1.1, at: path + ".\($0)") }
            }
            if let a = a as? NSObject, let b = b as? NSObject, a.isEqual(b) { return [] }
            if a == nil, b == nil { return [] }
            return ["\(path): whole \(a.map { "\($0)" } ?? "absent"), assembled \(b.map { "\($0)" } ?? "absent")"]
        }
    }
}

/// The suite by its own name, for the other tests that use its helpers.
typealias AssembledAnswerFidelityTests = OneSuiteAtATime.AssembledAnswerFidelityTests

/// One OpenAI answer of three choices (text with logprobs, a tool call, a refusal), whole and streamed.
private enum OpenAIWire {
    static let usage =
        #"{"prompt_tokens":20,"completion_tokens":12,"total_tokens":32,"prompt_tokens_details":{"cached_tokens":2,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#
    static let logprob1 = #"{"token":"Let","logprob":-0.1,"bytes":[76,101,116],"top_logprobs":[]}"#
    static let logprob2 = #"{"token":" me check.","logprob":-0.2,"bytes":null,"top_logprobs":[]}"#
    static let refusalLogprob = #"{"token":"No","logprob":-0.3,"bytes":[78,111],"top_logprobs":[]}"#

    static let completion = """
        {"id":"chatcmpl-AB1","object":"chat.completion","created":1764900000,"model":"gpt-4o-mini-2024-07-18",\
        "choices":[\
        {"index":0,"message":{"role":"assistant","content":"Let me check.","refusal":null,"annotations":[]},\
        "logprobs":{"content":[\(logprob1),\(logprob2)],"refusal":null},"finish_reason":"stop"},\
        {"index":1,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",\
        "function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}],"refusal":null,"annotations":[]},\
        "logprobs":null,"finish_reason":"tool_calls"},\
        {"index":2,"message":{"role":"assistant","content":null,"refusal":"No","annotations":[]},\
        "logprobs":{"content":null,"refusal":[\(refusalLogprob)]},"finish_reason":"stop"}],\
        "usage":\(usage),"service_tier":"default","system_fingerprint":"fp_1"}
        """

    static func chunk(_ choices: String, usage: String = "") -> String {
        #"{"id":"chatcmpl-AB1","object":"chat.completion.chunk","created":1764900000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_1","choices":["#
            + choices + "]" + usage + #","obfuscation":"x1"}"#
    }

    static let chunks = [
        chunk(#"{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}"#),
        chunk(#"{"index":1,"delta":{"role":"assistant","content":null,"refusal":null},"logprobs":null,"finish_reason":null}"#),
        chunk(#"{"index":2,"delta":{"role":"assistant","content":null,"refusal":null},"logprobs":null,"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"content":"Let"},"logprobs":{"content":["# + logprob1 + #"],"refusal":null},"finish_reason":null}"#),
        chunk(
            #"{"index":1,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}"#
        ),
        chunk(
            #"{"index":0,"delta":{"content":" me check."},"logprobs":{"content":["# + logprob2 + #"],"refusal":null},"finish_reason":null}"#
        ),
        chunk(
            #"{"index":1,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"logprobs":null,"finish_reason":null}"#
        ),
        chunk(
            #"{"index":2,"delta":{"refusal":"No"},"logprobs":{"content":null,"refusal":["# + refusalLogprob + #"]},"finish_reason":null}"#
        ),
        chunk(
            #"{"index":1,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"logprobs":null,"finish_reason":null}"#
        ),
        chunk(#"{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}"#),
        chunk(#"{"index":1,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}"#),
        chunk(#"{"index":2,"delta":{},"logprobs":null,"finish_reason":"stop"}"#),
        chunk("", usage: #","usage":"# + usage),
    ]
}

/// One Anthropic message with text and a tool call, whole and as events.
private enum AnthropicWire {
    static let message = """
        {"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",\
        "content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris"}}],\
        "stop_reason":"tool_use","stop_sequence":null,\
        "usage":{"input_tokens":20,"cache_creation_input_tokens":3,"cache_read_input_tokens":5,"output_tokens":12}}
        """

    static func event(_ type: String, _ data: String) -> String { "event: \(type)\ndata: \(data)\n\n" }

    static let events = [
        event(
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"cache_creation_input_tokens":3,"cache_read_input_tokens":5,"output_tokens":1}}}"#
        ),
        event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
        event("ping", #"{"type":"ping"}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me "}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"check."}}"#),
        event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        event(
            "content_block_start",
            #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}"#
        ),
        event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#
        ),
        event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"#
        ),
        event("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
        event(
            "message_delta",
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":12}}"#
        ),
        event("message_stop", #"{"type":"message_stop"}"#),
    ]
}

/// One Gemini answer with text and a function call, whole and as server-sent events.
private enum GeminiWire {
    static let usage =
        #""usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":12,"totalTokenCount":32,"cachedContentTokenCount":4}"#

    static let response = """
        {"candidates":[{"content":{"role":"model","parts":[{"text":"Let me check."},\
        {"functionCall":{"id":"fc_1","name":"get_weather","args":{"city":"Paris"}}}]},"finishReason":"STOP","index":0}],\
        \(usage),"modelVersion":"gemini-2.5-flash","responseId":"resp_1"}
        """

    static func event(_ parts: String, finish: String = "") -> String {
        #"data: {"candidates":[{"content":{"role":"model","parts":["# + parts + #"]}"# + finish + #","index":0}],"#
            + usage + #","modelVersion":"gemini-2.5-flash","responseId":"resp_1"}"# + "\r\n\r\n"
    }

    static let events = [
        event(#"{"text":"Let me "}"#),
        event(#"{"text":"check."}"#),
        event(#"{"functionCall":{"id":"fc_1","name":"get_weather","args":{"city":"Paris"}}}"#, finish: #","finishReason":"STOP""#),
    ]
}

/// One Ollama answer with text and a tool call, whole and as NDJSON lines.
private enum OllamaWire {
    static let head = #""model":"llama3.2:3b","created_at":"2026-12-05T10:00:00Z""#
    static let counts =
        #""prompt_eval_count":20,"eval_count":12,"total_duration":5000000,"load_duration":100,"prompt_eval_duration":10,"eval_duration":20"#

    static let whole = """
        {\(head),"message":{"role":"assistant","content":"Let me check.",\
        "tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done_reason":"stop","done":true,\(counts)}
        """

    static let lines = [
        "{\(head),\"message\":{\"role\":\"assistant\",\"content\":\"Let me \"},\"done\":false}\n",
        "{\(head),\"message\":{\"role\":\"assistant\",\"content\":\"check.\"},\"done\":false}\n",
        "{\(head),\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}}]},\"done\":false}\n",
        "{\(head),\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\(counts)}\n",
    ]
}

/// One TGI answer with logprobs, whole and streamed, as TGI's Messages API writes them (an empty id).
private enum TGIWire {
    static let logprob1 = #"{"token":"Let","logprob":-0.1,"top_logprobs":[]}"#
    static let logprob2 = #"{"token":" me check.","logprob":-0.2,"top_logprobs":[]}"#

    static let completion = """
        {"object":"chat.completion","id":"","created":1764900000,"model":"tgi","system_fingerprint":"3.0.1-sha-abc",\
        "choices":[{"index":0,"message":{"role":"assistant","content":"Let me check."},\
        "logprobs":{"content":[\(logprob1),\(logprob2)]},"finish_reason":"stop"}],\
        "usage":{"prompt_tokens":20,"completion_tokens":12,"total_tokens":32}}
        """

    static func chunk(_ delta: String, logprob: String, finish: String = "null", usage: String = "null") -> String {
        #"{"object":"chat.completion.chunk","id":"","created":1764900000,"model":"tgi","system_fingerprint":"3.0.1-sha-abc","choices":[{"index":0,"delta":"#
            + delta + #","logprobs":{"content":["# + logprob + #"]},"finish_reason":"# + finish + #"}],"usage":"# + usage + "}"
    }

    static let chunks = [
        chunk(#"{"role":"assistant","content":"Let"}"#, logprob: logprob1),
        chunk(#"{"role":"assistant","content":" me check."}"#, logprob: logprob2, finish: #""stop""#),
        #"{"object":"chat.completion.chunk","id":"","created":1764900000,"model":"tgi","system_fingerprint":"3.0.1-sha-abc","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":12,"total_tokens":32}}"#,
    ]
}

/// One TGI answer that calls a tool, whole and streamed, as TGI 3.2 and later write them (`router/src/lib.rs`, `chat.rs`).
///
/// The whole call has the id "0", `function.description: null` and its `arguments` as text, and the message no `content`;
/// the stream sends the call in pieces at `index` 0, each with the call's `id` and `type` and the role, the name on the
/// first piece only (`null` after), whose arguments are the `{` TGI writes in place of the grammar's own. A tool call ends
/// in `stop` like any answer; ids are empty and `data:` has no space. The model writes compact JSON here: TGI streams the
/// model's own text but serialises the whole answer's arguments itself, so a model that writes spaces gets the same
/// arguments spaced in the stream and compact in the whole answer.
private enum TGIToolCallWire {
    static let head = #""id":"","created":1764900000,"model":"meta-llama/Llama-3.1-8B-Instruct","system_fingerprint":"3.3.6-native""#
    static let usage = #"{"prompt_tokens":20,"completion_tokens":12,"total_tokens":32}"#

    static let completion = """
        {"object":"chat.completion",\(head),"choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"0","type":"function",\
        "function":{"description":null,"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},"logprobs":null,"finish_reason":"stop"}],\
        "usage":\(usage)}
        """

    /// One `data:` event carrying a piece of the call: `name` and `arguments` as JSON, `finish` TGI's finish reason or null.
    static func event(name: String, arguments: String, finish: String = "null") -> String {
        #"data:{"object":"chat.completion.chunk","# + head
            + #","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"0","type":"function","function":{"name":"#
            + name + #","arguments":"# + arguments + #"}}]},"logprobs":null,"finish_reason":"# + finish + #"}],"usage":null}"# + "\n\n"
    }

    static let events = [
        event(name: #""get_weather""#, arguments: #""{""#),
        event(name: "null", arguments: #""\"city\":""#),
        event(name: "null", arguments: #""\"Paris\"}""#, finish: #""stop""#),
        #"data:{"object":"chat.completion.chunk","# + head + #","choices":[],"usage":"# + usage + "}\n\n",
        "data:[DONE]\n\n",
    ]
}

/// One vLLM answer from a reasoning model (`--reasoning-parser`), whole and streamed, as vLLM 0.10 writes them
/// (`vllm/entrypoints/openai/protocol.py`, `serving_chat.py`).
///
/// The whole answer is `model_dump()`: every field of the schema, null or empty when unused (`service_tier`,
/// `system_fingerprint`, `refusal`, `annotations`, `audio`, `function_call`, `tool_calls: []`, `stop_reason`,
/// `prompt_logprobs`, `kv_transfer_params`, `usage.prompt_tokens_details`). Chunks are `exclude_unset`: only the fields
/// set, the reasoning as `reasoning_content` deltas, `stop_reason` on the last, and the usage chunk without nulls.
private enum VLLMWire {
    static let completion = """
        {"id":"chatcmpl-V1","object":"chat.completion","created":1764900000,"model":"Qwen/Qwen3-8B",\
        "choices":[{"index":0,"message":{"role":"assistant","content":"It is sunny.","refusal":null,"annotations":null,"audio":null,\
        "function_call":null,"tool_calls":[],"reasoning_content":"The user asks about Paris."},\
        "logprobs":null,"finish_reason":"stop","stop_reason":null}],\
        "service_tier":null,"system_fingerprint":null,\
        "usage":{"prompt_tokens":20,"total_tokens":32,"completion_tokens":12,"prompt_tokens_details":null},\
        "prompt_logprobs":null,"kv_transfer_params":null}
        """

    /// A chunk with one choice.
    static func chunk(_ choice: String) -> String {
        #"{"id":"chatcmpl-V1","object":"chat.completion.chunk","created":1764900000,"model":"Qwen/Qwen3-8B","choices":["# + choice + "]}"
    }

    static let chunks = [
        chunk(#"{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"reasoning_content":"The user asks"},"logprobs":null,"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"reasoning_content":" about Paris."},"logprobs":null,"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"content":"It is"},"logprobs":null,"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"content":" sunny."},"logprobs":null,"finish_reason":"stop","stop_reason":null}"#),
        #"{"id":"chatcmpl-V1","object":"chat.completion.chunk","created":1764900000,"model":"Qwen/Qwen3-8B","choices":[],"usage":{"prompt_tokens":20,"total_tokens":32,"completion_tokens":12}}"#,
    ]
}

/// One Anthropic message that thinks, writes and calls a tool, whole and as events (a thinking block, then text, then
/// `tool_use`; the stream's thinking comes as `thinking_delta` and `signature_delta`).
private enum AnthropicThinkingWire {
    static let message = """
        {"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",\
        "content":[{"type":"thinking","thinking":"The user wants the weather in Paris.","signature":"EqQBCkYIBxgCKkBKsig"},\
        {"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_02","name":"get_weather","input":{"city":"Paris"}}],\
        "stop_reason":"tool_use","stop_sequence":null,\
        "usage":{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":40}}
        """

    static let events = [
        AnthropicWire.event(
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#
        ),
        AnthropicWire.event(
            "content_block_start",
            #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#
        ),
        AnthropicWire.event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants "}}"#
        ),
        AnthropicWire.event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"the weather in Paris."}}"#
        ),
        AnthropicWire.event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCkYIBxgCKkBKsig"}}"#
        ),
        AnthropicWire.event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        AnthropicWire.event("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#),
        AnthropicWire.event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Let me check."}}"#
        ),
        AnthropicWire.event("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
        AnthropicWire.event(
            "content_block_start",
            #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02","name":"get_weather","input":{}}}"#
        ),
        AnthropicWire.event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#
        ),
        AnthropicWire.event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"#
        ),
        AnthropicWire.event("content_block_stop", #"{"type":"content_block_stop","index":2}"#),
        AnthropicWire.event(
            "message_delta",
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":40}}"#
        ),
        AnthropicWire.event("message_stop", #"{"type":"message_stop"}"#),
    ]
}

/// One Gemini 3 answer that thinks, writes and calls a tool, whole and as server-sent events: a thought-summary part
/// (`"thought": true`), a text part, a function call with its `thoughtSignature`, and `thoughtsTokenCount`.
private enum GeminiThinkingWire {
    static let usage =
        #""usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":12,"totalTokenCount":40,"thoughtsTokenCount":8}"#
    static let thought = #"{"text":"**Checking the weather** The user wants Paris.","thought":true}"#
    static let call = #"{"functionCall":{"id":"fc_2","name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"CiQBjz1rX2sig"}"#

    static let response = """
        {"candidates":[{"content":{"role":"model","parts":[\(thought),{"text":"Let me check."},\(call)]},"finishReason":"STOP","index":0}],\
        \(usage),"modelVersion":"gemini-3-flash-preview","responseId":"resp_2"}
        """

    /// One event of the stream: a candidate with `parts`, and `finish` (`,"finishReason":…`) when it ends.
    static func event(_ parts: String, finish: String = "") -> String {
        #"data: {"candidates":[{"content":{"role":"model","parts":["# + parts + #"]}"# + finish + #","index":0}],"#
            + usage + #","modelVersion":"gemini-3-flash-preview","responseId":"resp_2"}"# + "\r\n\r\n"
    }

    static let events = [
        event(thought),
        event(#"{"text":"Let me check."}"#),
        event(call, finish: #","finishReason":"STOP""#),
    ]
}

/// One Ollama answer from a thinking model, whole and as NDJSON lines: `message.thinking` first, then the text.
private enum OllamaThinkingWire {
    static let head = #""model":"qwen3:8b","created_at":"2026-12-05T10:00:00Z""#

    static let whole = """
        {\(head),"message":{"role":"assistant","content":"It is sunny in Paris.","thinking":"The user asks about the weather."},\
        "done_reason":"stop","done":true,\(OllamaWire.counts)}
        """

    static let lines = [
        #"{\#(head),"message":{"role":"assistant","content":"","thinking":"The user asks"},"done":false}"# + "\n",
        #"{\#(head),"message":{"role":"assistant","content":"","thinking":" about the weather."},"done":false}"# + "\n",
        #"{\#(head),"message":{"role":"assistant","content":"It is sunny"},"done":false}"# + "\n",
        #"{\#(head),"message":{"role":"assistant","content":" in Paris."},"done":false}"# + "\n",
        #"{\#(head),"message":{"role":"assistant","content":""},"done_reason":"stop","done":true,\#(OllamaWire.counts)}"# + "\n",
    ]
}

/// One Anthropic message that only calls a tool, whole and as events.
private enum AnthropicToolCallOnlyWire {
    static let message = """
        {"id":"msg_03","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",\
        "content":[{"type":"tool_use","id":"toolu_03","name":"get_weather","input":{"city":"Paris"}}],\
        "stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":20,"output_tokens":12}}
        """

    static let events = [
        AnthropicWire.event(
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_03","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"output_tokens":1}}}"#
        ),
        AnthropicWire.event(
            "content_block_start",
            #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_03","name":"get_weather","input":{}}}"#
        ),
        AnthropicWire.event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#
        ),
        AnthropicWire.event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"#
        ),
        AnthropicWire.event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        AnthropicWire.event(
            "message_delta",
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":12}}"#
        ),
        AnthropicWire.event("message_stop", #"{"type":"message_stop"}"#),
    ]
}

/// One Gemini answer that only calls a function, whole and as one server-sent event.
private enum GeminiToolCallOnlyWire {
    static let usage = #""usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":12,"totalTokenCount":32}"#
    static let call = #"{"functionCall":{"id":"fc_3","name":"get_weather","args":{"city":"Paris"}}}"#

    static let response = """
        {"candidates":[{"content":{"role":"model","parts":[\(call)]},"finishReason":"STOP","index":0}],\
        \(usage),"modelVersion":"gemini-2.5-flash","responseId":"resp_3"}
        """

    static let events = [
        #"data: {"candidates":[{"content":{"role":"model","parts":["# + call + #"]},"finishReason":"STOP","index":0}],"# + usage
            + #","modelVersion":"gemini-2.5-flash","responseId":"resp_3"}"# + "\r\n\r\n"
    ]
}

/// One Ollama answer that only calls a tool, whole and as NDJSON lines.
private enum OllamaToolCallOnlyWire {
    static let call = #"{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}"#

    static let whole = """
        {\(OllamaWire.head),"message":{"role":"assistant","content":"","tool_calls":[\(call)]},\
        "done_reason":"stop","done":true,\(OllamaWire.counts)}
        """

    static let lines = [
        #"{\#(OllamaWire.head),"message":{"role":"assistant","content":"","tool_calls":[\#(call)]},"done":false}"# + "\n",
        #"{\#(OllamaWire.head),"message":{"role":"assistant","content":""},"done_reason":"stop","done":true,\#(OllamaWire.counts)}"# + "\n",
    ]
}
