import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// `POST /v1/messages` through the chat path: Anthropic's request translated for an OpenAI-shaped
/// target, the answer and the stream rendered in Anthropic's shapes, errors in its envelope.
@Suite struct MessagesEndToEndTests {
    static let yaml = """
        providers:
        \(fakeProvider("local", index: 0))
        models:
          small: {provider: local, model: upstream-small}
        """

    /// The `event:` names and `data:` payloads of an SSE body, in order.
    static func namedEvents(_ body: String) -> [(name: String, data: [String: Any])] {
        body.components(separatedBy: "\n\n").compactMap { block in
            var name: String?
            var data: [String: Any]?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") {
                    data = (try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8))) as? [String: Any]
                }
            }
            guard let name, let data else { return nil }
            return (name, data)
        }
    }

    static func message(stream: Bool = false, model: String = "small", extra: String = "") -> String {
        #"{"model":"\#(model)","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":\#(stream)\#(extra)}"#
    }

    @Test func aMessageIsAnsweredInAnthropicsShape() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion(content: "Hello!")))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.POST, "/v1/messages", body: Self.message(), headers: [("anthropic-version", "2023-06-01")])
            #expect(reply.status == 200)
            let json = reply.json
            #expect(json["type"] as? String == "message")
            #expect(json["role"] as? String == "assistant")
            #expect(json["model"] as? String == "small")
            #expect(json["stop_reason"] as? String == "end_turn")
            let content = try #require(json["content"] as? [[String: Any]])
            #expect(content.first?["type"] as? String == "text")
            #expect(content.first?["text"] as? String == "Hello!")
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["input_tokens"] as? Int == 9)
            #expect(usage["output_tokens"] as? Int == 4)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "small")
            // Anthropic's SDK reads the request id from `request-id`.
            #expect(reply.headers.first(name: "request-id") == reply.headers.first(name: "x-multiprodigy-request-id"))
            #expect(reply.headers.first(name: "request-id") != nil)
            // The upstream got a chat completion: the system prompt first, then the user's text.
            let sent = try #require(upstream.requests.first)
            #expect(sent.path == "/v1/chat/completions")
            let messages = try #require(sent.json["messages"] as? [[String: Any]])
            #expect(messages.first?["role"] as? String == "system")
            #expect(messages.first?["content"] as? String == "Be brief.")
            #expect(messages.count == 2)
            #expect(sent.json["max_completion_tokens"] as? Int == 64)
        }
    }

    @Test func aStreamIsRenderedAsAnthropicsEvents() async throws {
        let upstream = FakeUpstream(.stream(events: FakeUpstream.stream(["Hel", "lo"]) + [FakeUpstream.usageChunk()]))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.POST, "/v1/messages", body: Self.message(stream: true))
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            let events = Self.namedEvents(reply.body)
            let names = events.map(\.name).filter { $0 != "ping" }
            #expect(
                names == [
                    "message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                    "message_delta", "message_stop",
                ]
            )
            let start = try #require(events.first?.data["message"] as? [String: Any])
            #expect(start["model"] as? String == "small")
            let text = events.filter { $0.name == "content_block_delta" }.compactMap {
                ($0.data["delta"] as? [String: Any])?["text"] as? String
            }
            #expect(text.joined() == "Hello")
            let delta = try #require(events.first { $0.name == "message_delta" }?.data)
            #expect((delta["delta"] as? [String: Any])?["stop_reason"] as? String == "end_turn")
            #expect((delta["usage"] as? [String: Any])?["output_tokens"] as? Int == 2)
            // The translation asked the upstream for usage.
            #expect(upstream.requests.first?.json["stream_options"] as? [String: Bool] == ["include_usage": true])
        }
    }

    @Test func aCutStreamEndsWithAnErrorEventAndNoMessageStop() async throws {
        let upstream = FakeUpstream(.stream(events: [FakeUpstream.roleChunk(), FakeUpstream.contentChunk("partial")], done: false))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.POST, "/v1/messages", body: Self.message(stream: true))
            #expect(reply.status == 200)
            let events = Self.namedEvents(reply.body)
            #expect(events.contains { $0.name == "content_block_delta" })
            #expect(!events.contains { $0.name == "message_stop" })
            #expect(!events.contains { $0.name == "message_delta" })
            let last = try #require(events.last)
            #expect(last.name == "error")
            #expect(last.data["type"] as? String == "error")
            #expect((last.data["error"] as? [String: Any])?["type"] != nil)
        }
    }

    @Test func aStreamCutMidAnswerIsContinuedOnTheNextTarget() async throws {
        let first = FakeUpstream(StreamContinuationTests.cutAnswer)
        let second = FakeUpstream(StreamContinuationTests.rest)
        let third = FakeUpstream()
        try await withGateway(upstreams: [first, second, third], yaml: StreamContinuationTests.openAIContinuing) { gateway in
            let reply = try await gateway.send(.POST, "/v1/messages", body: Self.message(stream: true, model: "r"))
            #expect(reply.status == 200)
            let events = Self.namedEvents(reply.body)
            let text = events.filter { $0.name == "content_block_delta" }.compactMap {
                ($0.data["delta"] as? [String: Any])?["text"] as? String
            }
            #expect(text.joined() == "Hello world!")
            #expect(events.last?.name == "message_stop")
            #expect(second.requests.count == 1)
        }
    }

    @Test func errorsUseAnthropicsEnvelope() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        let yaml = Self.yaml + "\nauth: {master_key: sk-master-test}\n"
        try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
            func check(_ reply: GatewayClient.Reply, status: Int, type: String, sourceLocation: SourceLocation = #_sourceLocation) {
                #expect(reply.status == status, sourceLocation: sourceLocation)
                #expect(reply.json["type"] as? String == "error", sourceLocation: sourceLocation)
                #expect((reply.json["error"] as? [String: Any])?["type"] as? String == type, sourceLocation: sourceLocation)
                #expect(reply.json["error"] as? [String: Any] != nil, sourceLocation: sourceLocation)
            }
            let key = [("x-api-key", "sk-master-test")]
            check(try await gateway.send(.POST, "/v1/messages", body: Self.message()), status: 401, type: "authentication_error")
            check(try await gateway.send(.POST, "/v1/messages", body: "{nope", headers: key), status: 400, type: "invalid_request_error")
            check(
                try await gateway.send(.POST, "/v1/messages", body: #"{"model":"small","messages":[]}"#, headers: key),
                status: 400,
                type: "invalid_request_error"
            )
            check(
                try await gateway.send(.POST, "/v1/messages", body: Self.message(model: "no-such-model"), headers: key),
                status: 404,
                type: "not_found_error"
            )
            // Authorization: Bearer works as well as x-api-key.
            let bearer = try await gateway.send(
                .POST,
                "/v1/messages",
                body: Self.message(),
                headers: [("authorization", "Bearer sk-master-test")]
            )
            #expect(bearer.status == 200)
            // Chat keeps OpenAI's envelope.
            let chat = try await gateway.send(body: "{nope", headers: key)
            #expect(chat.status == 400)
            #expect(chat.error["message"] != nil)
        }
    }

    @Test func anUpstreamFailureIsAnsweredInAnthropicsEnvelope() async throws {
        let upstream = FakeUpstream(
            .respond(status: .badRequest, body: #"{"error":{"message":"bad thing","type":"invalid_request_error"}}"#)
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.POST, "/v1/messages", body: Self.message())
            #expect(reply.status == 400)
            #expect(reply.json["type"] as? String == "error")
            #expect((reply.json["error"] as? [String: Any])?["message"] as? String != nil)
        }
    }

    @Test func countTokensAnswersTheGatewaysEstimateAndSaysSo() async throws {
        let upstream = FakeUpstream()
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(
                .POST,
                "/v1/messages/count_tokens",
                body: #"{"model":"small","messages":[{"role":"user","content":"How many tokens is this sentence?"}]}"#
            )
            #expect(reply.status == 200)
            let count = try #require(reply.json["input_tokens"] as? Int)
            #expect(count > 5 && count < 40)
            #expect(reply.json["estimated"] as? Bool == true)
            #expect(reply.headers.first(name: "x-multiprodigy-token-count") == "estimated")
            #expect(upstream.requests.isEmpty)
            let unknown = try await gateway.send(
                .POST,
                "/v1/messages/count_tokens",
                body: #"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#
            )
            #expect(unknown.status == 404)
            #expect(unknown.json["type"] as? String == "error")
        }
    }

    @Test func aToolRoundTripIsTranslatedBothWays() async throws {
        let toolAnswer = #"""
            {"id":"chatcmpl-t","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25}}
            """#
        let upstream = FakeUpstream(.respond(status: .ok, body: toolAnswer))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let tools =
                #","tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]"#
            let reply = try await gateway.send(.POST, "/v1/messages", body: Self.message(extra: tools))
            #expect(reply.status == 200)
            #expect(reply.json["stop_reason"] as? String == "tool_use")
            let block = try #require((reply.json["content"] as? [[String: Any]])?.first { $0["type"] as? String == "tool_use" })
            #expect(block["id"] as? String == "call_1")
            #expect(block["name"] as? String == "get_weather")
            #expect((block["input"] as? [String: Any])?["city"] as? String == "Paris")
            let sentTools = try #require(upstream.requests.first?.json["tools"] as? [[String: Any]])
            #expect((sentTools.first?["function"] as? [String: Any])?["name"] as? String == "get_weather")

            upstream.script([.respond(status: .ok, body: FakeUpstream.completion(content: "Sunny."))])
            let followUp = #"""
                {"model":"small","max_tokens":64,"messages":[
                 {"role":"user","content":"Weather in Paris?"},
                 {"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}}]},
                 {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"22C and sunny"}]}]}
                """#
            let second = try await gateway.send(.POST, "/v1/messages", body: followUp)
            #expect(second.status == 200)
            let sent = try #require(upstream.requests.last?.json["messages"] as? [[String: Any]])
            #expect(sent.map { $0["role"] as? String } == ["user", "assistant", "tool"])
            #expect(sent[2]["tool_call_id"] as? String == "call_1")
            let calls = try #require(sent[1]["tool_calls"] as? [[String: Any]])
            #expect((calls.first?["function"] as? [String: Any])?["name"] as? String == "get_weather")
        }
    }
}
