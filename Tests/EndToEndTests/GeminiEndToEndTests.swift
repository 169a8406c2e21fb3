import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyCore
@testable import MultiProdigyProviders

/// Whether a value decoded by `JSONSerialization` equals the JSON text `expected`.
private func matchesJSON(_ value: Any?, _ expected: String) -> Bool {
    guard let value = value as? NSObject,
        let expected = try? JSONSerialization.jsonObject(with: Data(expected.utf8), options: [.fragmentsAllowed]) as? NSObject
    else { return false }
    return value.isEqual(expected)
}

/// `type: gemini` through the real gateway, against a fake upstream speaking Gemini's wire format.
@Suite struct GeminiEndToEndTests {
    static let yaml = """
        providers:
          gem: {type: gemini, base_url: "http://127.0.0.1:{PORT0}/", api_key: test-key, locality: cloud}
        models:
          flash: {provider: gem, model: gemini-2.5-flash, non_streaming: direct}
        """

    static let textAnswer = """
        {"candidates":[{"content":{"role":"model","parts":[{"text":"Hello! How can I help?"}]},"finishReason":"STOP","index":0}],
         "usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":7,"totalTokenCount":40,"thoughtsTokenCount":25},
         "modelVersion":"gemini-2.5-flash","responseId":"Il0taoSYJ5Cez7-PgcKQ0AM"}
        """

    static func json(_ body: String) -> FakeBehaviour { .raw(status: .ok, contentType: "application/json", body: body) }

    static func error(_ status: Int, _ grpcStatus: String, _ message: String, details: String = "[]") -> FakeBehaviour {
        .raw(
            status: .init(code: status),
            contentType: "application/json",
            body: #"{"error":{"code":\#(status),"message":"\#(message)","status":"\#(grpcStatus)","details":\#(details)}}"#
        )
    }

    /// Gemini's SSE framing: `data: <json>` lines ending in CRLF, events separated by a blank CRLF line, no `[DONE]`.
    static func sse(_ payloads: [String]) -> FakeBehaviour {
        .chunked(contentType: "text/event-stream", chunks: payloads.map { "data: \($0)\r\n\r\n" })
    }

    @Test func nonStreamingChatIsTranslatedBothWays() async throws {
        let upstream = FakeUpstream(Self.json(Self.textAnswer))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(
                body: """
                    {"model":"flash","temperature":0.3,"max_tokens":64,"stop":["END"],
                     "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}
                    """
            )
            #expect(reply.status == 200)
            let request = try #require(upstream.requests.first)
            #expect(request.path == "/v1beta/models/gemini-2.5-flash:generateContent")
            #expect(request.query == "")
            #expect(request.headers[.init("x-goog-api-key")!] == "test-key")
            #expect(request.headers[.authorization] == nil)
            let body = request.json
            #expect(matchesJSON(body["contents"], #"[{"role":"user","parts":[{"text":"hi"}]}]"#))
            #expect(matchesJSON(body["systemInstruction"], #"{"parts":[{"text":"Be brief."}]}"#))
            #expect(matchesJSON(body["generationConfig"], #"{"temperature":0.3,"maxOutputTokens":64,"stopSequences":["END"]}"#))
            #expect(body["model"] == nil && body["messages"] == nil)

            #expect(reply.json["object"] as? String == "chat.completion")
            #expect(reply.json["model"] as? String == "flash")
            let choice = try #require((reply.json["choices"] as? [[String: Any]])?.first)
            #expect((choice["message"] as? [String: Any])?["content"] as? String == "Hello! How can I help?")
            #expect(choice["finish_reason"] as? String == "stop")
            let usage = try #require(reply.json["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 8)
            #expect(usage["completion_tokens"] as? Int == 32)
            #expect(usage["total_tokens"] as? Int == 40)
            #expect((usage["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int == 25)
        }
    }

    @Test func streamingWithIncludeUsageEndsWithUsageAndDone() async throws {
        let upstream = FakeUpstream(
            Self.sse([
                #"{"candidates": [{"content": {"parts": [{"text": "Hel"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 5,"totalTokenCount": 5},"modelVersion": "gemini-2.5-flash"}"#,
                #"{"candidates": [{"content": {"parts": [{"text": "lo!"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 5,"candidatesTokenCount": 2,"totalTokenCount": 7},"modelVersion": "gemini-2.5-flash"}"#,
            ])
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("flash", stream: true, extra: #","stream_options":{"include_usage":true}"#)
            #expect(reply.status == 200)
            let request = try #require(upstream.requests.first)
            #expect(request.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent")
            #expect(request.query == "alt=sse")
            #expect(request.headers[.init("x-goog-api-key")!] == "test-key")
            #expect(request.json["stream"] == nil && request.json["stream_options"] == nil)

            let events = reply.events
            #expect(events.count == 6)
            #expect(events.last == "[DONE]")
            #expect(events.dropLast().allSatisfy { $0.contains(#""model":"flash""#) })
            #expect(events[0].contains(#""role":"assistant""#))
            #expect(events[1].contains(#""content":"Hel""#))
            #expect(events[2].contains(#""content":"lo!""#))
            #expect(events[3].contains(#""finish_reason":"stop""#))
            #expect(events[4].contains(#""choices":[]"#) && events[4].contains(#""total_tokens":7"#))
        }
    }

    @Test func streamCutWithoutFinishReasonIsNotDone() async throws {
        let upstream = FakeUpstream(
            Self.sse([#"{"candidates": [{"content": {"parts": [{"text": "partial"}],"role": "model"},"index": 0}]}"#])
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("flash", stream: true)
            #expect(reply.status == 200)
            #expect(!reply.events.contains("[DONE]"))
            #expect(!reply.body.contains(#""finish_reason":"stop""#))
            #expect(reply.events.contains { $0.contains("partial") })
            #expect(reply.events.last?.contains(#""code":"stream_interrupted""#) == true)
        }
    }

    @Test func toolCallingRoundTripKeepsNamesIdsAndThoughtSignatures() async throws {
        let upstream = FakeUpstream()
        upstream.script([
            Self.json(
                """
                {"candidates":[{"content":{"role":"model","parts":[
                  {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"CiQBjz1rX"}]},
                  "finishReason":"STOP","index":0}],
                 "usageMetadata":{"promptTokenCount":60,"candidatesTokenCount":20,"totalTokenCount":80}}
                """
            ),
            Self.json(
                #"{"candidates":[{"content":{"role":"model","parts":[{"text":"It is 14°C and raining in Paris."}]},"finishReason":"STOP","index":0}]}"#
            ),
        ])
        let tools = """
            "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather",
              "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}]
            """
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let first = try await gateway.send(
                body: #"{"model":"flash","messages":[{"role":"user","content":"Weather in Paris?"}],\#(tools),"tool_choice":"required"}"#
            )
            #expect(first.status == 200)
            let choice = try #require((first.json["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "tool_calls")
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["content"] is NSNull)
            let call = try #require((message["tool_calls"] as? [[String: Any]])?.first)
            let id = try #require(call["id"] as? String)
            #expect(id.hasPrefix("call_"))
            let function = try #require(call["function"] as? [String: Any])
            #expect(function["name"] as? String == "get_weather")
            #expect(function["arguments"] as? String == #"{"city":"Paris"}"#)

            let firstRequest = try #require(upstream.requests.first).json
            #expect(matchesJSON(firstRequest["toolConfig"], #"{"functionCallingConfig":{"mode":"ANY"}}"#))
            let declaration = try #require(
                ((firstRequest["tools"] as? [[String: Any]])?.first?["functionDeclarations"] as? [[String: Any]])?.first
            )
            #expect(
                matchesJSON(declaration["parameters"], #"{"type":"OBJECT","properties":{"city":{"type":"STRING"}},"required":["city"]}"#)
            )

            // The client sends the call back as OpenAI clients do: without Gemini's signature.
            let second = try await gateway.send(
                body: """
                    {"model":"flash",\(tools),"messages":[
                      {"role":"user","content":"Weather in Paris?"},
                      {"role":"assistant","content":null,"tool_calls":[{"id":"\(id)","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},
                      {"role":"tool","tool_call_id":"\(id)","content":"{\\"temp_c\\":14,\\"sky\\":\\"rain\\"}"}]}
                    """
            )
            #expect(second.status == 200)
            let answer = try #require((second.json["choices"] as? [[String: Any]])?.first)
            #expect((answer["message"] as? [String: Any])?["content"] as? String == "It is 14°C and raining in Paris.")
            #expect(answer["finish_reason"] as? String == "stop")

            #expect(upstream.requests.count == 2)
            let expected = """
                [{"role":"user","parts":[{"text":"Weather in Paris?"}]},
                 {"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"CiQBjz1rX"}]},
                 {"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temp_c":14,"sky":"rain"}}}]}]
                """
            #expect(matchesJSON(upstream.requests[1].json["contents"], expected), "\(upstream.requests[1].bodyString)")
        }
    }

    /// A reload builds every provider anew; the signatures of tool calls answered before it must
    /// still go back with those calls after it, or Gemini refuses the next turn.
    @Test func thoughtSignaturesSurviveASIGHUPReload() async throws {
        let upstream = FakeUpstream()
        upstream.script([
            Self.json(
                """
                {"candidates":[{"content":{"role":"model","parts":[
                  {"functionCall":{"name":"get_weather","args":{"city":"Oslo"}},"thoughtSignature":"SigBeforeReload42"}]},
                  "finishReason":"STOP","index":0}]}
                """
            ),
            Self.json(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Snow."}]},"finishReason":"STOP","index":0}]}"#),
        ])
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            let yaml = { (extraModel: String) in
                Self.yaml.replacingOccurrences(of: "{PORT0}", with: "\(port)") + extraModel
            }
            let path = try temporaryFile(yaml(""))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let gateway = GatewayProcess(arguments: ["serve", "--config", path, "--listen", "127.0.0.1:0"])
            try await gateway.startServing()
            let client = GatewayClient(port: gateway.port)
            let tools = #""tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]"#
            let first = try await client.send(
                body: #"{"model":"flash","messages":[{"role":"user","content":"Weather in Oslo?"}],\#(tools)}"#
            )
            #expect(first.status == 200, "\(first.body)")
            let choice = try #require((first.json["choices"] as? [[String: Any]])?.first)
            let call = try #require(((choice["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first)
            let id = try #require(call["id"] as? String)

            let added = "\n  pro: {provider: gem, model: gemini-2.5-pro, non_streaming: direct}\n"
            try yaml(added).write(toFile: path, atomically: true, encoding: .utf8)
            kill(gateway.process.processIdentifier, SIGHUP)
            try await waitFor { gateway.log.contains("configuration reloaded") }
            #expect(gateway.log.contains("configuration reloaded"), "\(gateway.log)")

            let second = try await client.send(
                body: """
                    {"model":"flash",\(tools),"messages":[
                      {"role":"user","content":"Weather in Oslo?"},
                      {"role":"assistant","content":null,"tool_calls":[{"id":"\(id)","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Oslo\\"}"}}]},
                      {"role":"tool","tool_call_id":"\(id)","content":"snow"}]}
                    """
            )
            #expect(second.status == 200, "\(second.body)")
            #expect(upstream.requests.count == 2)
            let contents = try #require(upstream.requests.last?.json["contents"] as? [[String: Any]])
            let modelTurn = try #require(contents.first { $0["role"] as? String == "model" })
            let part = try #require((modelTurn["parts"] as? [[String: Any]])?.first)
            #expect(part["thoughtSignature"] as? String == "SigBeforeReload42", "\(upstream.requests.last?.bodyString ?? "")")
        }
    }

    @Test func streamedToolCallArrivesWholeWithIndexAndToolCallsFinish() async throws {
        let upstream = FakeUpstream(
            Self.sse([
                #"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"name":"get_weather","args":{"city":"Lyon"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":6,"candidatesTokenCount":10,"totalTokenCount":16}}"#
            ])
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("flash", stream: true)
            let events = reply.events
            #expect(events.last == "[DONE]")
            let toolChunk = try #require(events.first { $0.contains("tool_calls") })
            #expect(toolChunk.contains(#""index":0,"id":"call_"#))
            #expect(toolChunk.contains(#""index":1,"id":"call_"#))
            #expect(toolChunk.contains(#""arguments":"{\"city\":\"Lyon\"}""#))
            #expect(events.contains { $0.contains(#""finish_reason":"tool_calls""#) })
        }
    }

    @Test func invalidArgumentBecomesA400WithGeminisMessage() async throws {
        let upstream = FakeUpstream(Self.error(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.temperature' (TYPE_FLOAT)"))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("flash")
            #expect(reply.status == 400)
            #expect(reply.error["type"] as? String == "invalid_request_error")
            #expect((reply.error["message"] as? String)?.contains("Invalid value at 'generation_config.temperature'") == true)
            #expect(upstream.requests.count == 1)
        }
    }

    @Test func unknownModelBecomesA404ModelNotFound() async throws {
        let upstream = FakeUpstream(Self.error(404, "NOT_FOUND", "models/gemini-2.5-flash is not found for API version v1beta"))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("flash")
            #expect(reply.status == 404)
            #expect(reply.error["code"] as? String == "model_not_found")
        }
    }

    @Test func invalidAPIKeyIsReportedAsTheGatewaysCredentialProblem() async throws {
        let upstream = FakeUpstream(
            Self.error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                details: #"[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]"#
            )
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("flash")
            #expect(reply.status == 502)
            #expect(reply.error["code"] as? String == "upstream_authentication_failed")
        }
    }

    @Test func rateLimitedGeminiFailsOverToTheNextTarget() async throws {
        let limited = FakeUpstream(
            Self.error(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota.",
                details: #"[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"34s"}]"#
            )
        )
        let healthy = FakeUpstream(Self.json(Self.textAnswer))
        let yaml = """
            providers:
              a: {type: gemini, base_url: "http://127.0.0.1:{PORT0}", api_key: key-a, locality: cloud}
              b: {type: gemini, base_url: "http://127.0.0.1:{PORT1}/v1beta", api_key: key-b, locality: cloud}
            models:
              first: {provider: a, model: gemini-2.5-flash, non_streaming: direct}
              second: {provider: b, model: gemini-2.5-pro, non_streaming: direct}
            routes:
              r: {policy: ordered, targets: [first, second]}
              only-first: {policy: ordered, targets: [first]}
            """
        try await withGateway(upstreams: [limited, healthy], yaml: yaml) { gateway in
            let reply = try await gateway.chat("r")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
            #expect(healthy.requests.first?.path == "/v1beta/models/gemini-2.5-pro:generateContent")
            #expect(healthy.requests.first?.headers[.init("x-goog-api-key")!] == "key-b")

            let alone = try await gateway.chat("only-first")
            #expect(alone.status == 429)
            #expect(alone.headers.first(name: "retry-after") == "34")
            #expect(alone.error["code"] as? String == "rate_limit_exceeded")
        }
    }

    @Test func malformedFunctionCallIsAnErrorForTheClient() async throws {
        let upstream = FakeUpstream(
            Self.json(#"{"candidates":[{"content":{"parts":[]},"finishReason":"MALFORMED_FUNCTION_CALL","index":0}]}"#)
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("flash")
            #expect(reply.status == 502)
            #expect(reply.error["code"] as? String == "malformed_function_call")
        }
    }

    @Test func remoteImageIsRefusedUnlessAllowed() async throws {
        let upstream = FakeUpstream(Self.json(Self.textAnswer))
        let body =
            #"{"model":"flash","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}"#
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(body: body)
            #expect(reply.status == 400)
            #expect(reply.error["param"] as? String == "messages")
            #expect((reply.error["message"] as? String)?.contains("allow_remote_images") == true)
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func remoteImageIsDownloadedAndInlinedWhenAllowed() async throws {
        let images = FakeUpstream(.raw(status: .ok, contentType: "image/png; charset=binary", body: "PNGDATA"))
        let upstream = FakeUpstream(Self.json(Self.textAnswer))
        let yaml = """
            providers:
              gem: {type: gemini, base_url: "http://127.0.0.1:{PORT0}", api_key: test-key, locality: cloud, options: {allow_remote_images: "true"}}
            models:
              flash: {provider: gem, model: gemini-2.5-flash, non_streaming: direct}
            """
        try await withService({ onPort in try await images.run(onPort: onPort) }) { imagePort in
            try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
                let url = "http://127.0.0.1:\(imagePort)/cat.png"
                let reply = try await gateway.send(
                    body: #"{"model":"flash","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"\#(url)"}}]}]}"#
                )
                #expect(reply.status == 200)
                #expect(images.requests.first?.path == "/cat.png")
                #expect(images.requests.first?.headers[.init("x-goog-api-key")!] == nil, "the API key never goes to image hosts")
                let data = Data("PNGDATA".utf8).base64EncodedString()
                let expected = #"[{"role":"user","parts":[{"inlineData":{"mimeType":"image/png","data":"\#(data)"}}]}]"#
                #expect(matchesJSON(upstream.requests.first?.json["contents"], expected))
            }
        }
    }

    @Test func typedOptionsReachTheProviderAsTheirKinds() async throws {
        // `yes` is a boolean and `4B` a size only to the typed options; read as text, remote images
        // stayed off and the limit at its 20 MiB default.
        let images = FakeUpstream(.raw(status: .ok, contentType: "image/png", body: "PNGDATA"))
        let upstream = FakeUpstream(Self.json(Self.textAnswer))
        let yaml = """
            providers:
              gem:
                type: gemini
                base_url: "http://127.0.0.1:{PORT0}"
                api_key: test-key
                options: {allow_remote_images: yes, max_remote_image_bytes: 4B}
            models:
              flash: {provider: gem, model: gemini-2.5-flash, non_streaming: direct}
            """
        try await withService({ onPort in try await images.run(onPort: onPort) }) { imagePort in
            try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
                let url = "http://127.0.0.1:\(imagePort)/cat.png"
                let reply = try await gateway.send(
                    body: #"{"model":"flash","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"\#(url)"}}]}]}"#
                )
                #expect(reply.status == 400)
                #expect(images.requests.first?.path == "/cat.png", "allow_remote_images: yes turned downloads on")
                #expect((reply.error["message"] as? String)?.contains("larger than 4 bytes") == true, "\(reply.error)")
                #expect(upstream.requests.isEmpty)
            }
        }
    }

    @Test func remoteImageThatIsNotAnImageIsA400() async throws {
        let images = FakeUpstream(.raw(status: .ok, contentType: "text/html", body: "<html></html>"))
        let upstream = FakeUpstream(Self.json(Self.textAnswer))
        let yaml = """
            providers:
              gem: {type: gemini, base_url: "http://127.0.0.1:{PORT0}", api_key: test-key, locality: cloud, options: {allow_remote_images: "true"}}
            models:
              flash: {provider: gem, model: gemini-2.5-flash, non_streaming: direct}
            """
        try await withService({ onPort in try await images.run(onPort: onPort) }) { imagePort in
            try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
                let url = "http://127.0.0.1:\(imagePort)/page"
                let reply = try await gateway.send(
                    body: #"{"model":"flash","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"\#(url)"}}]}]}"#
                )
                #expect(reply.status == 400)
                #expect((reply.error["message"] as? String)?.contains("text/html") == true)
                #expect(upstream.requests.isEmpty)
            }
        }
    }
}

/// Calling ``GeminiProvider`` directly (embeddings and model discovery are not wired into the gateway's endpoints yet).
@Suite struct GeminiProviderDirectTests {
    static func provider(port: Int) throws -> GeminiProvider {
        let yaml = """
            providers:
              gem: {type: gemini, base_url: "http://127.0.0.1:\(port)/v1beta/", api_key: test-key, locality: cloud}
            models:
              embed: {provider: gem, model: gemini-embedding-001}
            """
        let config = try ConfigLoader(environment: [:]).load(yaml: yaml, source: "test")
        let providerConfig = try #require(config.providers.first)
        let context = ProviderContext(transport: testTransport, gatewayConfig: config, logger: Logger(label: "gemini-test"))
        return try GeminiProvider(config: providerConfig, context: context)
    }

    @Test func embedSplitsMoreThanAHundredInputsIntoOrderedBatches() async throws {
        let upstream = FakeUpstream()
        let hundred = "[" + Array(repeating: #"{"values":[1]}"#, count: 100).joined(separator: ",") + "]"
        let fifty = "[" + Array(repeating: #"{"values":[2]}"#, count: 50).joined(separator: ",") + "]"
        upstream.script([
            .raw(status: .ok, contentType: "application/json", body: #"{"embeddings":\#(hundred)}"#),
            .raw(status: .ok, contentType: "application/json", body: #"{"embeddings":\#(fifty)}"#),
        ])
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            let provider = try Self.provider(port: port)
            let inputs = (0..<150).map { "\"t\($0)\"" }.joined(separator: ",")
            let request = try EmbeddingsRequest.parse(ByteBuffer(string: #"{"model":"embed","input":[\#(inputs)]}"#))
            let call = EmbeddingsCall(
                request: request,
                upstreamModel: "gemini-embedding-001",
                responseDeadline: .now() + .seconds(60),
                logger: Logger(label: "gemini-test")
            )
            guard case .vectors(let vectors, _) = try await provider.embed(call) else {
                Issue.record("expected vectors")
                return
            }
            #expect(vectors.count == 150)
            #expect(vectors.first == [1] && vectors.last == [2])
            #expect(upstream.requests.map { ($0.json["requests"] as? [Any])?.count } == [100, 50])
            #expect(upstream.requests.last?.bodyString.contains(#""text":"t100""#) == true)
        }
    }

    @Test func embedSendsABatchAndReturnsVectors() async throws {
        let upstream = FakeUpstream(
            .raw(status: .ok, contentType: "application/json", body: #"{"embeddings":[{"values":[0.5,-0.25]},{"values":[1,0]}]}"#)
        )
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            let provider = try Self.provider(port: port)
            let request = try EmbeddingsRequest.parse(ByteBuffer(string: #"{"model":"embed","input":["first","second"],"dimensions":2}"#))
            let call = EmbeddingsCall(
                request: request,
                upstreamModel: "gemini-embedding-001",
                responseDeadline: .now() + .seconds(60),
                logger: Logger(label: "gemini-test")
            )
            let result = try await provider.embed(call)
            guard case .vectors(let vectors, let promptTokens) = result else {
                Issue.record("expected vectors")
                return
            }
            #expect(vectors == [[0.5, -0.25], [1, 0]])
            #expect(promptTokens == nil)
            let recorded = try #require(upstream.requests.first)
            #expect(recorded.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents")
            #expect(recorded.headers[.init("x-goog-api-key")!] == "test-key")
            let expected = """
                [{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"first"}]},"outputDimensionality":2},
                 {"model":"models/gemini-embedding-001","content":{"parts":[{"text":"second"}]},"outputDimensionality":2}]
                """
            #expect(matchesJSON(recorded.json["requests"], expected))
        }
    }

    @Test func embedErrorIsMapped() async throws {
        let upstream = FakeUpstream(
            .raw(
                status: .tooManyRequests,
                contentType: "application/json",
                body: #"{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}"#
            )
        )
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            let provider = try Self.provider(port: port)
            let request = try EmbeddingsRequest.parse(ByteBuffer(string: #"{"model":"embed","input":"x"}"#))
            let call = EmbeddingsCall(
                request: request,
                upstreamModel: "gemini-embedding-001",
                responseDeadline: .now() + .seconds(60),
                logger: Logger(label: "gemini-test")
            )
            do {
                _ = try await provider.embed(call)
                Issue.record("expected an error")
            } catch let error as ProviderError {
                #expect(error.kind == .rateLimited)
                #expect(error.upstreamError?.message == "slow down")
            }
        }
    }

    @Test func discoverModelsFollowsPagesAndKeepsUsableModels() async throws {
        let upstream = FakeUpstream()
        upstream.script([
            .raw(
                status: .ok,
                contentType: "application/json",
                body:
                    #"{"models":[{"name":"models/gemini-2.5-flash","supportedGenerationMethods":["generateContent"]},{"name":"models/aqa","supportedGenerationMethods":["generateAnswer"]}],"nextPageToken":"page/2=="}"#
            ),
            .raw(
                status: .ok,
                contentType: "application/json",
                body: #"{"models":[{"name":"models/gemini-embedding-001","supportedGenerationMethods":["embedContent"]}]}"#
            ),
        ])
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            let provider = try Self.provider(port: port)
            let names = try await provider.discoverModels(deadline: .now() + .seconds(60), logger: Logger(label: "gemini-test"))
            #expect(names == ["gemini-2.5-flash", "gemini-embedding-001"])
            #expect(upstream.requests.count == 2)
            #expect(upstream.requests.first?.method == .get)
            #expect(upstream.requests.first?.path == "/v1beta/models")
            #expect(upstream.requests.last?.query == "pageSize=1000&pageToken=page%2F2%3D%3D")
        }
    }
}
