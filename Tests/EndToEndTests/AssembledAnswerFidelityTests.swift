import Foundation
import Testing

extension OneSuiteAtATime {
    /// A non-streaming answer assembled from an upstream's stream (`non_streaming: assembled`) is the
    /// answer the same upstream gives without streaming (`non_streaming: direct`), field by field, for
    /// every provider type: the same fake answer in both wire forms, asked through two gateways.
    ///
    /// The only fields allowed to differ are the ones no upstream sends in both forms: `created` where
    /// the gateway stamps the time, ids the gateway makes up where the upstream has none, and OpenAI's
    /// empty `message.annotations`, which streams never carry.
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
            absentWhenAssembled: ["choices.0.message.annotations", "choices.1.message.annotations", "choices.2.message.annotations"]
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
            absentWhenAssembled: []
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
            absentWhenAssembled: []
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
            absentWhenAssembled: []
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
            absentWhenAssembled: []
        )

        @Test(arguments: [openAI, anthropic, gemini, ollama, huggingFace])
        func anAssembledAnswerIsTheWholeAnswerFieldByField(_ fixture: Fixture) async throws {
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
