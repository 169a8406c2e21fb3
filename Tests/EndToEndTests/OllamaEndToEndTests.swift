import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyCore
@testable import MultiProdigyProviders

/// `type: ollama` through the real gateway, against a fake speaking Ollama's native API.
@Suite struct OllamaEndToEndTests {
    static let yaml = """
        providers:
          local: {type: ollama, base_url: "http://127.0.0.1:{PORT0}/v1/", options: {num_ctx: 8192, keep_alive: 10m}}
          keyed: {type: ollama, base_url: "http://127.0.0.1:{PORT0}", api_key: test-key, headers: {X-Team: blue}, locality: cloud}
        models:
          m: {provider: local, model: "llama3.2:3b", non_streaming: direct}
          k: {provider: keyed, model: "llama3.2:3b", non_streaming: direct}
        """

    static func line(_ text: String) -> String { text + "\n" }

    static let answer = #"""
        {"model":"llama3.2:3b","created_at":"2025-07-07T20:32:53.844124Z","message":{"role":"assistant","content":"Hello from Ollama"},"done_reason":"stop","done":true,"total_duration":3244883583,"load_duration":2969184542,"prompt_eval_count":12,"prompt_eval_duration":141656333,"eval_count":4,"eval_duration":133293625}
        """#

    static let streamLines = [
        #"{"model":"llama3.2:3b","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"Hel"},"done":false}"#,
        #"{"model":"llama3.2:3b","created_at":"2023-08-04T08:52:19.405406455-07:00","message":{"role":"assistant","content":"lo"},"done":false}"#,
        #"{"model":"llama3.2:3b","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":4883583458,"prompt_eval_count":26,"eval_count":2}"#,
    ]

    @Test func nonStreamingChatCallsApiChatWithStreamFalseAndOptions() async throws {
        let upstream = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.answer))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(
                body:
                    #"{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],"temperature":0.3,"max_tokens":64,"stop":"END"}"#
            )
            #expect(reply.status == 200)
            let request = try #require(upstream.requests.first)
            #expect(request.method == .post)
            #expect(request.path == "/api/chat", "the /v1 of base_url is dropped for the native API")
            #expect(request.headers[.authorization] == nil, "no credentials unless api_key is set")
            #expect(request.bodyString.contains(#""stream":false"#))
            #expect(request.json["model"] as? String == "llama3.2:3b")
            #expect(request.json["keep_alive"] as? String == "10m")
            let options = try #require(request.json["options"] as? [String: Any])
            #expect(options["temperature"] as? Double == 0.3)
            #expect(options["num_predict"] as? Int == 64)
            #expect(options["num_ctx"] as? Int == 8192)
            #expect(options["stop"] as? [String] == ["END"])
            let messages = try #require(request.json["messages"] as? [[String: Any]])
            #expect(messages.first?["role"] as? String == "system")

            #expect(reply.json["object"] as? String == "chat.completion")
            #expect(reply.json["model"] as? String == "m")
            #expect((reply.json["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            let choice = try #require((reply.json["choices"] as? [[String: Any]])?.first)
            #expect((choice["message"] as? [String: Any])?["content"] as? String == "Hello from Ollama")
            #expect(choice["finish_reason"] as? String == "stop")
            // A local model without a price costs nothing, and the answer says so.
            let usage = try #require(reply.json["usage"] as? [String: Int])
            #expect(usage == ["prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16, "cost_usd": 0])
        }
    }

    @Test func apiKeyAndConfiguredHeadersAreSent() async throws {
        let upstream = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.answer))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("k")
            #expect(reply.status == 200)
            let request = try #require(upstream.requests.first)
            #expect(request.headers[.authorization] == "Bearer test-key")
            #expect(request.headers[.init("X-Team")!] == "blue")
            #expect(request.json["options"] == nil, "no options were asked for")
        }
    }

    @Test func streamingWithIncludeUsageBecomesOpenAIChunksEndingWithDone() async throws {
        // The first line arrives in two pieces: lines are reassembled across network chunks.
        let first = Self.streamLines[0]
        let split = first.index(first.startIndex, offsetBy: 30)
        let chunks = [String(first[..<split]), String(first[split...]) + "\n"] + Self.streamLines.dropFirst().map(Self.line)
        let upstream = FakeUpstream(.chunked(contentType: "application/x-ndjson", chunks: chunks))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("m", stream: true, extra: #","stream_options":{"include_usage":true}"#)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            let request = try #require(upstream.requests.first)
            #expect(request.path == "/api/chat")
            #expect(request.bodyString.contains(#""stream":true"#))
            #expect(request.headers[.accept] == "application/x-ndjson")
            let events = reply.events
            #expect(events.count == 6)
            #expect(events.last == "[DONE]")
            #expect(events[0].contains(#""delta":{"role":"assistant","content":""}"#))
            #expect(events[1].contains(#""delta":{"content":"Hel"}"#))
            #expect(events[2].contains(#""delta":{"content":"lo"}"#))
            #expect(events[3].contains(#""finish_reason":"stop""#))
            #expect(events[4].contains(#""choices":[],"usage":{"prompt_tokens":26,"completion_tokens":2,"total_tokens":28,"cost_usd":0}"#))
            for event in events.dropLast() {
                #expect(event.contains(#""model":"m""#), "every chunk names the declared model")
                #expect(event.contains(#""object":"chat.completion.chunk""#))
            }
            let ids = Set(
                events.dropLast().compactMap { event -> String? in
                    let json = try? JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any]
                    return json?["id"] as? String
                }
            )
            #expect(ids.count == 1, "every chunk carries the same id")
        }
    }

    @Test func toolCallingRoundTrip() async throws {
        let toolCallAnswer = #"""
            {"model":"llama3.2:3b","created_at":"2025-07-07T20:32:53Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Tokyo","unit":"celsius"}}}]},"done_reason":"stop","done":true,"prompt_eval_count":169,"eval_count":18}
            """#
        let finalAnswer = #"""
            {"model":"llama3.2:3b","created_at":"2025-07-07T20:32:55Z","message":{"role":"assistant","content":"It is 11 degrees in Tokyo."},"done_reason":"stop","done":true,"prompt_eval_count":200,"eval_count":9}
            """#
        let upstream = FakeUpstream()
        upstream.script([
            .raw(status: .ok, contentType: "application/json", body: toolCallAnswer),
            .raw(status: .ok, contentType: "application/json", body: finalAnswer),
        ])
        let tools =
            #"[{"type":"function","function":{"name":"get_weather","description":"Get the weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string"}},"required":["city"]}}}]"#
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let first = try await gateway.send(
                body: #"{"model":"m","messages":[{"role":"user","content":"Weather in Tokyo?"}],"tools":\#(tools)}"#
            )
            #expect(first.status == 200)
            let choice = try #require((first.json["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "tool_calls")
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["content"] is NSNull)
            let call = try #require((message["tool_calls"] as? [[String: Any]])?.first)
            let callID = try #require(call["id"] as? String)
            #expect(callID.hasPrefix("call_"))
            #expect(call["type"] as? String == "function")
            let function = try #require(call["function"] as? [String: Any])
            #expect(function["name"] as? String == "get_weather")
            let arguments = try #require(function["arguments"] as? String, "arguments are a JSON string for OpenAI clients")
            let parsed = try JSONSerialization.jsonObject(with: Data(arguments.utf8)) as? [String: String]
            #expect(parsed == ["city": "Tokyo", "unit": "celsius"])
            let sentTools = try #require(upstream.requests.first?.json["tools"] as? [[String: Any]])
            #expect((sentTools.first?["function"] as? [String: Any])?["name"] as? String == "get_weather")

            let assistant = try String(decoding: JSONSerialization.data(withJSONObject: message), as: UTF8.self)
            let second = try await gateway.send(
                body: #"""
                    {"model":"m","tools":\#(tools),"messages":[{"role":"user","content":"Weather in Tokyo?"},\#(assistant),
                     {"role":"tool","tool_call_id":"\#(callID)","content":"11 degrees celsius"}]}
                    """#
            )
            #expect(second.status == 200)
            let secondChoice = try #require((second.json["choices"] as? [[String: Any]])?.first)
            #expect((secondChoice["message"] as? [String: Any])?["content"] as? String == "It is 11 degrees in Tokyo.")
            #expect(secondChoice["finish_reason"] as? String == "stop")

            let sent = try #require(upstream.requests.last?.json["messages"] as? [[String: Any]])
            #expect(sent.count == 3)
            let sentCall = try #require((sent[1]["tool_calls"] as? [[String: Any]])?.first)
            let sentArguments = (sentCall["function"] as? [String: Any])?["arguments"] as? [String: String]
            #expect(sentArguments == ["city": "Tokyo", "unit": "celsius"], "Ollama gets the arguments as an object")
            #expect(sent[2]["role"] as? String == "tool")
            #expect(sent[2]["tool_name"] as? String == "get_weather", "the tool's name is looked up from its call id")
            #expect(sent[2]["content"] as? String == "11 degrees celsius")
        }
    }

    @Test func streamedToolCallArrivesAsOneIndexedDelta() async throws {
        let lines = [
            #"{"model":"llama3.2:3b","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_k2v9x0qa","function":{"index":0,"name":"get_weather","arguments":{"city":"Tokyo"}}}]},"done":false}"#,
            #"{"model":"llama3.2:3b","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"prompt_eval_count":169,"eval_count":18}"#,
        ]
        let upstream = FakeUpstream(.chunked(contentType: "application/x-ndjson", chunks: lines.map(Self.line)))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("m", stream: true)
            let events = reply.events
            #expect(events.last == "[DONE]")
            #expect(
                events.contains {
                    $0.contains(
                        #""tool_calls":[{"index":0,"id":"call_k2v9x0qa","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}}]"#
                    )
                }
            )
            #expect(events.contains { $0.contains(#""finish_reason":"tool_calls""#) })
        }
    }

    @Test(arguments: [false, true])
    func missingModelIsA404WithThePullHint(stream: Bool) async throws {
        let upstream = FakeUpstream(
            .raw(status: .notFound, contentType: "application/json", body: #"{"error":"model 'llama3.2:3b' not found"}"#)
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("m", stream: stream)
            #expect(reply.status == 404)
            #expect(reply.headers.first(name: "content-type") == "application/json")
            #expect(reply.error["code"] as? String == "model_not_found")
            #expect(reply.error["type"] as? String == "invalid_request_error")
            let message = try #require(reply.error["message"] as? String)
            #expect(message.contains("ollama pull llama3.2:3b"))
        }
    }

    @Test func busyServerFailsOverToTheNextTarget() async throws {
        let busy = FakeUpstream(
            .raw(
                status: .serviceUnavailable,
                contentType: "application/json",
                body: #"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#
            )
        )
        let spare = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.answer))
        let yaml = """
            providers:
              first: {type: ollama, base_url: "http://127.0.0.1:{PORT0}"}
              second: {type: ollama, base_url: "http://127.0.0.1:{PORT1}"}
            models:
              a: {provider: first, model: "llama3.2:3b", non_streaming: direct}
              b: {provider: second, model: "llama3.2:3b", non_streaming: direct}
            routes:
              auto: {policy: ordered, targets: [a, b]}
            """
        try await withGateway(upstreams: [busy, spare], yaml: yaml) { gateway in
            let reply = try await gateway.chat("auto")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "b")
            #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "3")
        }
    }

    @Test func errorLineMidStreamEndsWithAnInBandStreamInterruptedError() async throws {
        let chunks = [
            Self.line(Self.streamLines[0]),
            Self.line(#"{"error":"an error was encountered while running the model"}"#),
        ]
        let upstream = FakeUpstream(.chunked(contentType: "application/x-ndjson", chunks: chunks))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("m", stream: true)
            #expect(reply.status == 200)
            let events = reply.events
            #expect(events.contains { $0.contains(#""content":"Hel""#) })
            #expect(!events.contains("[DONE]"))
            let last = try #require(events.last)
            #expect(last.contains(#""code":"stream_interrupted""#))
            #expect(last.contains("an error was encountered while running the model"))
        }
    }

    @Test func errorLineBeforeAnyContentIsAnErrorResponse() async throws {
        let upstream = FakeUpstream(
            .chunked(
                contentType: "application/x-ndjson",
                chunks: [Self.line(#"{"error":"llama runner process has terminated: exit status 2"}"#)]
            )
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("m", stream: true)
            #expect(reply.status == 502)
            #expect(reply.headers.first(name: "content-type") == "application/json")
            #expect((reply.error["message"] as? String)?.contains("llama runner process has terminated") == true)
        }
    }

    @Test func streamCutBeforeTheDoneLineHasNoDone() async throws {
        let upstream = FakeUpstream(.chunked(contentType: "application/x-ndjson", chunks: Self.streamLines.prefix(2).map(Self.line)))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("m", stream: true, extra: #","stream_options":{"include_usage":true}"#)
            #expect(reply.status == 200)
            let events = reply.events
            #expect(!events.contains("[DONE]"))
            #expect(!reply.body.contains(#""finish_reason":"stop""#))
            #expect(events.contains { $0.contains(#""content":"lo""#) })
            #expect(events.last?.contains(#""code":"stream_interrupted""#) == true)
        }
    }

    @Test func remoteImageURLIsRefusedBeforeCallingOllama() async throws {
        let upstream = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.answer))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(
                body:
                    #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}"#
            )
            #expect(reply.status == 400)
            #expect(reply.error["code"] as? String == "unsupported_parameter")
            #expect((reply.error["message"] as? String)?.contains("data URL") == true)
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func registryBuildsOllamaWithItsDefaultBaseURLAndRejectsBadOptions() throws {
        #expect(ProviderRegistry.defaultBaseURL(forType: "ollama") == "http://127.0.0.1:11434")
        let context = ProviderContext(transport: testTransport, gatewayConfig: GatewayConfig(), logger: Logger(label: "ollama-test"))
        let good = ProviderConfig(name: "local", type: "ollama", baseURL: "http://127.0.0.1:11434", options: ["num_ctx": "8192"])
        #expect(try ProviderRegistry.makeProvider(for: good, context: context) is OllamaProvider)
        var bad = good
        bad.options = ["num_ctx": "lots"]
        #expect(throws: ConfigError.self) { try ProviderRegistry.makeProvider(for: bad, context: context) }
    }

    // MARK: Embeddings and model discovery, through the provider directly

    private func withProvider<T: Sendable>(
        _ upstream: FakeUpstream,
        _ body: (OllamaProvider) async throws -> T
    ) async throws -> T {
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            let config = ProviderConfig(
                name: "local",
                type: "ollama",
                baseURL: "http://127.0.0.1:\(port)/",
                options: ["truncate": "false"]
            )
            let context = ProviderContext(
                transport: testTransport,
                gatewayConfig: GatewayConfig(),
                logger: Logger(label: "ollama-test")
            )
            return try await body(OllamaProvider(config: config, context: context))
        }
    }

    private static var deadline: NIODeadline { .now() + .seconds(60) }

    @Test func embedCallsApiEmbedAndReturnsTheVectors() async throws {
        let upstream = FakeUpstream(
            .raw(
                status: .ok,
                contentType: "application/json",
                body:
                    #"{"model":"all-minilm","embeddings":[[0.010071029,-0.0017594862],[-0.0098027075,0.06042469]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}"#
            )
        )
        try await withProvider(upstream) { provider in
            let request = try EmbeddingsRequest.parse(
                ByteBuffer(string: #"{"model":"e","input":["Why is the sky blue?","Why is the grass green?"]}"#)
            )
            let call = EmbeddingsCall(
                request: request,
                upstreamModel: "all-minilm",
                responseDeadline: Self.deadline,
                logger: Logger(label: "t")
            )
            let result = try await provider.embed(call)
            guard case .vectors(let vectors, let promptTokens) = result else {
                Issue.record("expected vectors")
                return
            }
            #expect(vectors == [[0.010071029, -0.0017594862], [-0.0098027075, 0.06042469]])
            #expect(promptTokens == 8)
            let sent = try #require(upstream.requests.first)
            #expect(sent.path == "/api/embed")
            #expect(
                sent.bodyString == #"{"model":"all-minilm","input":["Why is the sky blue?","Why is the grass green?"],"truncate":false}"#
            )
        }
    }

    @Test func embedWithAMissingModelGivesThePullHint() async throws {
        let upstream = FakeUpstream(
            .raw(
                status: .notFound,
                contentType: "application/json",
                body: #"{"error":"model \"nomic-embed-text\" not found, try pulling it first"}"#
            )
        )
        try await withProvider(upstream) { provider in
            let request = try EmbeddingsRequest.parse(ByteBuffer(string: #"{"model":"e","input":"hello"}"#))
            let call = EmbeddingsCall(
                request: request,
                upstreamModel: "nomic-embed-text",
                responseDeadline: Self.deadline,
                logger: Logger(label: "t")
            )
            await #expect {
                try await provider.embed(call)
            } throws: { error in
                guard let error = error as? ProviderError else { return false }
                return error.upstreamError?.status == .notFound
                    && error.upstreamError?.message.contains("ollama pull nomic-embed-text") == true
            }
        }
    }

    @Test func embedRefusesTokenIDsWithoutCallingOllama() async throws {
        let upstream = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: "{}"))
        try await withProvider(upstream) { provider in
            let request = try EmbeddingsRequest.parse(ByteBuffer(string: #"{"model":"e","input":[[1,2],[3]]}"#))
            let call = EmbeddingsCall(
                request: request,
                upstreamModel: "all-minilm",
                responseDeadline: Self.deadline,
                logger: Logger(label: "t")
            )
            await #expect {
                try await provider.embed(call)
            } throws: { error in
                (error as? ProviderError)?.upstreamError?.status == .badRequest
            }
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func discoverModelsListsTheInstalledModels() async throws {
        let tags = #"""
            {"models":[{"name":"llama3.2:latest","model":"llama3.2:latest","modified_at":"2025-05-04T17:37:44.706015396-07:00","size":2019393189,"digest":"a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72","details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],"parameter_size":"3.2B","quantization_level":"Q4_K_M"}},{"name":"all-minilm:latest","model":"all-minilm:latest"}]}
            """#
        let upstream = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: tags))
        try await withProvider(upstream) { provider in
            let names = try await provider.discoverModels(deadline: Self.deadline, logger: Logger(label: "t"))
            #expect(names == ["llama3.2:latest", "all-minilm:latest"])
            let sent = try #require(upstream.requests.first)
            #expect(sent.method == .get)
            #expect(sent.path == "/api/tags")
        }
    }
}
