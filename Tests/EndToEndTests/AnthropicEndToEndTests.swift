import AsyncHTTPClient
import Foundation
import HTTPTypes
import Logging
import NIOCore
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyProviders

/// `type: anthropic` through the real gateway, against a fake upstream speaking Anthropic's Messages API.
@Suite struct AnthropicEndToEndTests {
    static let yaml = """
        providers:
          claude: {type: anthropic, base_url: "http://127.0.0.1:{PORT0}", api_key: test-key, locality: cloud}
        models:
          sonnet: {provider: claude, model: claude-sonnet-4-5, non_streaming: direct}
        """

    // MARK: Canned Anthropic wire data

    static func message(
        id: String = "msg_01",
        content: String = #"[{"type":"text","text":"Bonjour!"}]"#,
        stopReason: String = "end_turn"
    ) -> String {
        #"""
        {"id":"\#(id)","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":\#(content),\#
        "stop_reason":"\#(stopReason)","stop_sequence":null,\#
        "usage":{"input_tokens":12,"output_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}
        """#
    }

    static func event(_ name: String, _ data: String) -> String {
        "event: \(name)\ndata: \(data)\n\n"
    }

    static let messageStart = event(
        "message_start",
        #"{"type":"message_start","message":{"id":"msg_S","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#
    )
    static let textStart = event(
        "content_block_start",
        #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
    )
    static func textDelta(_ text: String) -> String {
        event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\#(text)"}}"#)
    }
    static let textStop = event("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
    static let messageDelta = event(
        "message_delta",
        #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}"#
    )
    static let messageStop = event("message_stop", #"{"type":"message_stop"}"#)

    static func sse(_ chunks: [String]) -> FakeBehaviour {
        .chunked(contentType: "text/event-stream", chunks: chunks)
    }

    static func anthropicError(_ status: Int, type: String, message: String) -> FakeBehaviour {
        .raw(
            status: HTTPResponse.Status(code: status),
            contentType: "application/json",
            body: #"{"type":"error","error":{"type":"\#(type)","message":"\#(message)"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#
        )
    }

    // MARK: Tests

    @Test func nonStreamingChatIsTranslatedBothWays() async throws {
        let upstream = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.message()))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(
                body: #"""
                    {"model":"sonnet","max_tokens":300,"stop":"END","temperature":0.3,"user":"u-1",
                     "messages":[{"role":"system","content":"Answer in French."},{"role":"user","content":"Hello"}]}
                    """#
            )
            #expect(reply.status == 200)
            #expect(reply.json["object"] as? String == "chat.completion")
            #expect(reply.json["model"] as? String == "sonnet")
            #expect((reply.json["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            let choice = try #require((reply.json["choices"] as? [[String: Any]])?.first)
            #expect((choice["message"] as? [String: Any])?["content"] as? String == "Bonjour!")
            #expect(choice["finish_reason"] as? String == "stop")
            let usage = try #require(reply.json["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 12)
            #expect(usage["completion_tokens"] as? Int == 5)
            #expect(usage["total_tokens"] as? Int == 17)

            let request = try #require(upstream.requests.first)
            #expect(request.method == .post)
            #expect(request.path == "/v1/messages")
            #expect(request.headers[HTTPField.Name("x-api-key")!] == "test-key")
            #expect(request.headers[HTTPField.Name("anthropic-version")!] == "2023-06-01")
            #expect(request.headers[.authorization] == nil, "Anthropic takes the key in x-api-key only")
            let body = request.json
            #expect(body["model"] as? String == "claude-sonnet-4-5")
            #expect(body["max_tokens"] as? Int == 300)
            #expect(body["system"] as? String == "Answer in French.")
            #expect(body["stop_sequences"] as? [String] == ["END"])
            #expect(body["temperature"] as? Double == 0.3)
            #expect(body["metadata"] as? [String: String] == ["user_id": "u-1"])
            #expect(body["stream"] == nil)
            let messages = try #require(body["messages"] as? [[String: Any]])
            #expect(messages.count == 1)
            #expect(messages[0]["role"] as? String == "user")
            #expect(messages[0]["content"] as? String == "Hello")
        }
    }

    @Test func optionsAndHeadersReachTheUpstream() async throws {
        let upstream = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.message()))
        let yaml = """
            providers:
              claude:
                type: anthropic
                base_url: "http://127.0.0.1:{PORT0}/v1/"
                api_key: test-key
                headers: {anthropic-beta: "prompt-caching-2024-07-31"}
                options: {anthropic_version: "2024-10-22", default_max_tokens: "321"}
            models:
              sonnet: {provider: claude, model: claude-sonnet-4-5, non_streaming: direct}
            """
        try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
            let reply = try await gateway.chat("sonnet")
            #expect(reply.status == 200)
            let request = try #require(upstream.requests.first)
            #expect(request.path == "/v1/messages", "a base_url ending in /v1/ is the same root")
            #expect(request.headers[HTTPField.Name("anthropic-version")!] == "2024-10-22")
            #expect(request.headers[HTTPField.Name("anthropic-beta")!] == "prompt-caching-2024-07-31")
            #expect(request.json["max_tokens"] as? Int == 321)
        }
    }

    @Test func invalidDefaultMaxTokensIsAConfigError() {
        let yaml = """
            providers:
              claude: {type: anthropic, api_key: k, options: {default_max_tokens: "lots"}}
            models:
              sonnet: {provider: claude, model: claude-sonnet-4-5, non_streaming: direct}
            """
        #expect(throws: ConfigError.self) {
            let config = try ConfigLoader(environment: [:]).load(yaml: yaml, source: "test")
            let context = ProviderContext(transport: testTransport, gatewayConfig: config, logger: Logger(label: "test"))
            _ = try ProviderRegistry.makeProvider(for: config.providers[0], context: context)
        }
    }

    @Test func streamedAnswerWithIncludeUsage() async throws {
        let upstream = FakeUpstream(
            Self.sse([
                Self.messageStart, Self.textStart, Self.event("ping", #"{"type": "ping"}"#), Self.textDelta("Hel"),
                Self.textDelta("lo"), Self.textStop, Self.messageDelta, Self.messageStop,
            ])
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("sonnet", stream: true, extra: #","stream_options":{"include_usage":true}"#)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            let events = reply.events
            #expect(events.count == 6, "role, two contents, finish, usage, [DONE]")
            #expect(events[0].contains(#""delta":{"role":"assistant","content":""}"#))
            #expect(events[1].contains(#""delta":{"content":"Hel"}"#))
            #expect(events[2].contains(#""delta":{"content":"lo"}"#))
            #expect(events[3].contains(#""finish_reason":"stop""#))
            #expect(events[4].contains(#""choices":[]"#))
            #expect(events[4].contains(#""usage":{"prompt_tokens":25,"completion_tokens":7,"total_tokens":32"#))
            #expect(events[5] == "[DONE]")
            for event in events.dropLast() {
                #expect(event.contains(#""model":"sonnet""#))
                #expect(event.contains(#""id":"chatcmpl-msg_S""#))
            }
            let request = try #require(upstream.requests.first)
            #expect(request.json["stream"] as? Bool == true)
            #expect(request.json["stream_options"] == nil)
            #expect(request.headers[.accept] == "text/event-stream")
        }
    }

    @Test func toolCallingRoundTrip() async throws {
        let toolUse = Self.message(
            id: "msg_T1",
            content:
                #"[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"location":"San Francisco, CA"}}]"#,
            stopReason: "tool_use"
        )
        let upstream = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.message(id: "msg_T2")))
        upstream.script([.raw(status: .ok, contentType: "application/json", body: toolUse)])
        let tools =
            #""tools":[{"type":"function","function":{"name":"get_weather","description":"Get the weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]"#
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let first = try await gateway.send(
                body: #"{"model":"sonnet","messages":[{"role":"user","content":"Weather in SF?"}],\#(tools),"tool_choice":"auto"}"#
            )
            #expect(first.status == 200)
            let choice = try #require((first.json["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "tool_calls")
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["content"] as? String == "Let me check.")
            let call = try #require((message["tool_calls"] as? [[String: Any]])?.first)
            #expect(call["id"] as? String == "toolu_01A09q90qw90lq917835lq9")
            #expect(call["type"] as? String == "function")
            let function = try #require(call["function"] as? [String: Any])
            #expect(function["name"] as? String == "get_weather")
            #expect(function["arguments"] as? String == #"{"location":"San Francisco, CA"}"#)

            let firstSent = try #require(upstream.requests.first?.json)
            #expect(firstSent["tool_choice"] as? [String: String] == ["type": "auto"])
            let sentTool = try #require((firstSent["tools"] as? [[String: Any]])?.first)
            #expect(sentTool["name"] as? String == "get_weather")
            #expect((sentTool["input_schema"] as? [String: Any])?["required"] as? [String] == ["location"])

            let second = try await gateway.send(
                body: #"""
                    {"model":"sonnet","messages":[{"role":"user","content":"Weather in SF?"},
                     {"role":"assistant","content":"Let me check.","tool_calls":[{"id":"toolu_01A09q90qw90lq917835lq9","type":"function",
                       "function":{"name":"get_weather","arguments":"{\"location\":\"San Francisco, CA\"}"}}]},
                     {"role":"tool","tool_call_id":"toolu_01A09q90qw90lq917835lq9","content":"15 degrees, foggy"}],\#(tools)}
                    """#
            )
            #expect(second.status == 200)
            #expect(
                ((second.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String == "Bonjour!"
            )
            let secondSent = try #require(upstream.requests.last?.json)
            let turns = try #require(secondSent["messages"] as? [[String: Any]])
            #expect(turns.map { $0["role"] as? String } == ["user", "assistant", "user"])
            let assistantBlocks = try #require(turns[1]["content"] as? [[String: Any]])
            #expect(assistantBlocks.map { $0["type"] as? String } == ["text", "tool_use"])
            #expect(assistantBlocks[1]["id"] as? String == "toolu_01A09q90qw90lq917835lq9")
            #expect(assistantBlocks[1]["input"] as? [String: String] == ["location": "San Francisco, CA"])
            let result = try #require((turns[2]["content"] as? [[String: Any]])?.first)
            #expect(result["type"] as? String == "tool_result")
            #expect(result["tool_use_id"] as? String == "toolu_01A09q90qw90lq917835lq9")
            #expect(result["content"] as? String == "15 degrees, foggy")
        }
    }

    @Test func streamedToolCallCarriesIndexIdAndArgumentPieces() async throws {
        let upstream = FakeUpstream(
            Self.sse([
                Self.messageStart,
                Self.event(
                    "content_block_start",
                    #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_S","name":"get_weather","input":{}}}"#
                ),
                Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"Pa"}}"#
                ),
                Self.event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}"#
                ),
                Self.event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
                Self.event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"#),
                Self.messageStop,
            ])
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("sonnet", stream: true)
            let events = reply.events
            #expect(events.count == 6, "role, tool start, two argument pieces, finish, [DONE]")
            #expect(
                events[1].contains(
                    #""tool_calls":[{"index":0,"id":"toolu_S","type":"function","function":{"name":"get_weather","arguments":""}}]"#
                )
            )
            #expect(events[2].contains(#""tool_calls":[{"index":0,"function":{"arguments":"{\"location\": \"Pa"}}]"#))
            #expect(events[4].contains(#""finish_reason":"tool_calls""#))
            #expect(events.last == "[DONE]")
        }
    }

    @Test(arguments: [false, true])
    func overloaded529FailsOverToTheNextTarget(stream: Bool) async throws {
        let a = FakeUpstream(Self.anthropicError(529, type: "overloaded_error", message: "Overloaded"))
        let b = FakeUpstream(
            .byStreamFlag(
                streaming: FakeBehaviourBox(
                    Self.sse([Self.messageStart, Self.textStart, Self.textDelta("ok"), Self.messageDelta, Self.messageStop])
                ),
                plain: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: Self.message()))
            )
        )
        let yaml = """
            providers:
              a: {type: anthropic, base_url: "http://127.0.0.1:{PORT0}", api_key: key-a, locality: cloud}
              b: {type: anthropic, base_url: "http://127.0.0.1:{PORT1}", api_key: key-b, locality: cloud}
            models:
              first: {provider: a, model: claude-sonnet-4-5, non_streaming: direct}
              second: {provider: b, model: claude-haiku-4-5, non_streaming: direct}
            routes:
              r: {policy: ordered, targets: [first, second]}
            """
        try await withGateway(upstreams: [a, b], yaml: yaml) { gateway in
            let reply = try await gateway.chat("r", stream: stream)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
            #expect(reply.headers.first(name: "x-multiprodigy-provider") == "b")
            #expect(a.requests.count >= 1)
            #expect(b.requests.count == 1)
            #expect(b.requests.first?.headers[HTTPField.Name("x-api-key")!] == "key-b")
            if stream {
                #expect(reply.events.last == "[DONE]")
            } else {
                #expect(reply.json["model"] as? String == "second")
            }
        }
    }

    @Test func overloadedAsTheLastErrorReachesTheClientAs503() async throws {
        let upstream = FakeUpstream(Self.anthropicError(529, type: "overloaded_error", message: "Overloaded"))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("sonnet")
            #expect(reply.status == 503)
            #expect(reply.error["type"] as? String == "server_error")
            #expect(reply.error["code"] as? String == "overloaded_error")
            #expect((reply.error["message"] as? String)?.hasPrefix("Overloaded") == true)
        }
    }

    @Test func invalidRequestFromAnthropicPassesThroughWithItsMessage() async throws {
        let upstream = FakeUpstream(
            Self.anthropicError(400, type: "invalid_request_error", message: "messages.0.content: text must be non-empty")
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("sonnet")
            #expect(reply.status == 400)
            #expect(reply.error["type"] as? String == "invalid_request_error")
            #expect(reply.error["message"] as? String == "messages.0.content: text must be non-empty")
            #expect(upstream.requests.count == 1)
        }
    }

    @Test func rejectedCredentialsAreA502WithoutAnthropicsText() async throws {
        let upstream = FakeUpstream(Self.anthropicError(401, type: "authentication_error", message: "invalid x-api-key"))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("sonnet")
            #expect(reply.status == 502)
            #expect(reply.error["code"] as? String == "upstream_authentication_failed")
            #expect(!reply.body.contains("invalid x-api-key"))
        }
    }

    @Test func requestAnthropicCannotExpressIsA400WithoutCallingIt() async throws {
        let upstream = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.message()))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("sonnet", extra: #","n":3"#)
            #expect(reply.status == 400)
            #expect(reply.error["param"] as? String == "n")
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func errorEventMidStreamEndsWithAnInBandStreamInterrupted() async throws {
        let upstream = FakeUpstream(
            Self.sse([
                Self.messageStart, Self.textStart, Self.textDelta("partial"),
                Self.event("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
            ])
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("sonnet", stream: true)
            #expect(reply.status == 200)
            let events = reply.events
            #expect(events.contains { $0.contains("partial") })
            #expect(!events.contains("[DONE]"))
            #expect(!reply.body.contains(#""finish_reason":"stop""#))
            let last = try #require(events.last)
            #expect(last.contains(#""code":"stream_interrupted""#))
            #expect(last.contains("Overloaded"))
        }
    }

    @Test func errorEventBeforeAnyContentFailsOverInvisibly() async throws {
        let a = FakeUpstream(
            Self.sse([
                Self.messageStart, Self.event("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
            ])
        )
        let b = FakeUpstream(Self.sse([Self.messageStart, Self.textStart, Self.textDelta("fine"), Self.messageDelta, Self.messageStop]))
        let yaml = """
            providers:
              a: {type: anthropic, base_url: "http://127.0.0.1:{PORT0}", api_key: key-a}
              b: {type: anthropic, base_url: "http://127.0.0.1:{PORT1}", api_key: key-b}
            models:
              first: {provider: a, model: claude-sonnet-4-5, non_streaming: direct}
              second: {provider: b, model: claude-sonnet-4-5, non_streaming: direct}
            routes:
              r: {policy: ordered, targets: [first, second]}
            """
        try await withGateway(upstreams: [a, b], yaml: yaml) { gateway in
            let reply = try await gateway.chat("r", stream: true)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
            #expect(reply.events.contains { $0.contains("fine") })
            #expect(reply.events.last == "[DONE]")
        }
    }

    @Test func streamCutBeforeMessageStopHasNoDone() async throws {
        // Everything but message_stop: even the stop reason arrived, yet the answer was never confirmed.
        let upstream = FakeUpstream(
            Self.sse([Self.messageStart, Self.textStart, Self.textDelta("almost"), Self.textStop, Self.messageDelta])
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("sonnet", stream: true, extra: #","stream_options":{"include_usage":true}"#)
            #expect(reply.status == 200)
            let events = reply.events
            #expect(events.contains { $0.contains("almost") })
            #expect(!events.contains("[DONE]"))
            #expect(!reply.body.contains(#""finish_reason":"stop""#))
            #expect(events.last?.contains(#""code":"stream_interrupted""#) == true)
        }
    }

    @Test func discoverModelsListsEveryPage() async throws {
        let upstream = FakeUpstream(
            .raw(
                status: .ok,
                contentType: "application/json",
                body:
                    #"{"data":[{"type":"model","id":"claude-haiku-4-5","display_name":"Claude Haiku 4.5"}],"has_more":false,"first_id":"claude-haiku-4-5","last_id":"claude-haiku-4-5"}"#
            )
        )
        upstream.script([
            .raw(
                status: .ok,
                contentType: "application/json",
                body:
                    #"{"data":[{"type":"model","id":"claude-sonnet-4-5"},{"type":"model","id":"claude-opus-4-1"}],"has_more":true,"first_id":"claude-sonnet-4-5","last_id":"claude-opus-4-1"}"#
            )
        ])
        let ids = try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            let config = ProviderConfig(name: "claude", type: "anthropic", baseURL: "http://127.0.0.1:\(port)/", apiKey: "test-key")
            let context = ProviderContext(transport: testTransport, gatewayConfig: GatewayConfig(), logger: Logger(label: "test"))
            let provider = try AnthropicProvider(config: config, context: context)
            return try await provider.discoverModels(deadline: .now() + .seconds(60), logger: Logger(label: "test"))
        }
        #expect(ids == ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"])
        let requests = upstream.requests
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0.method == .get && $0.path == "/v1/models" })
        #expect(requests.allSatisfy { $0.headers[HTTPField.Name("x-api-key")!] == "test-key" })
        #expect(requests.allSatisfy { $0.headers[HTTPField.Name("anthropic-version")!] == "2023-06-01" })
        #expect(requests.last?.query == "limit=1000&after_id=claude-opus-4-1")
    }
}
