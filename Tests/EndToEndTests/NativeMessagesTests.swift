import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import Testing

/// `POST /v1/messages` passed through to an Anthropic target as the client sent it (only `model`
/// rewritten): cache_control, thinking signatures, top_k and the `anthropic-beta` header arrive
/// unchanged; the answer and its events come back as Anthropic sent them, `model` renamed and the
/// cost added; a cut stream ends with Anthropic's `error` event; server tools go only to Anthropic
/// targets; `count_tokens` is Anthropic's own count.
@Suite struct NativeMessagesTests {
    typealias Canned = AnthropicEndToEndTests

    /// `claude` (Anthropic, at PORT0) and `local` (OpenAI-compatible, at PORT1).
    static let yaml = """
        providers:
          claude: {type: anthropic, base_url: "http://127.0.0.1:{PORT0}", api_key: provider-key, locality: cloud}
        \(fakeProvider("local", index: 1))
        models:
          sonnet: {provider: claude, model: claude-sonnet-4-5, price: {input: 3, output: 15}}
          small: {provider: local, model: upstream-small}
        routes:
          claude-first: {targets: [sonnet, small], policy: ordered}
          local-first: {targets: [small, sonnet], policy: ordered}
        """

    /// A body with what only Anthropic reads: a cache_control breakpoint, top_k and a thinking block
    /// with its signature in the conversation.
    static func richMessage(model: String = "sonnet", stream: Bool = false, extra: String = "") -> String {
        #"""
        {"model":"\#(model)","max_tokens":64,"top_k":5,"stream":\#(stream),\#
        "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],\#
        "messages":[{"role":"user","content":"2+2?"},\#
        {"role":"assistant","content":[{"type":"thinking","thinking":"Add them.","signature":"sig-ABC=="},{"type":"text","text":"4"}]},\#
        {"role":"user","content":"and 3+3?"}]\#(extra)}
        """#
    }

    static let cachedMessage = #"""
        {"id":"msg_native","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",\#
        "content":[{"type":"text","text":"6"}],"stop_reason":"end_turn","stop_sequence":null,\#
        "usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":1000,"output_tokens":2}}
        """#

    @Test func aMessageGoesToAnthropicAsTheClientSentIt() async throws {
        let claude = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.cachedMessage))
        let local = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [claude, local], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(
                .POST,
                "/v1/messages",
                body: Self.richMessage(),
                headers: [("anthropic-version", "2023-06-01"), ("anthropic-beta", "interleaved-thinking-2025-05-14")]
            )
            #expect(reply.status == 200)
            let sent = try #require(claude.requests.first)
            #expect(sent.path == "/v1/messages")
            // Byte for byte the client's body, but for the model.
            #expect(
                sent.bodyString == Self.richMessage().replacingOccurrences(of: #""model":"sonnet""#, with: #""model":"claude-sonnet-4-5""#)
            )
            #expect(sent.headers[HTTPField.Name("anthropic-beta")!] == "interleaved-thinking-2025-05-14")
            #expect(sent.headers[HTTPField.Name("anthropic-version")!] == "2023-06-01")
            #expect(sent.headers[HTTPField.Name("x-api-key")!] == "provider-key")
            #expect(local.requests.isEmpty)
            // Anthropic's answer, named after the gateway's model, with its cost.
            let json = reply.json
            #expect(json["id"] as? String == "msg_native")
            #expect(json["model"] as? String == "sonnet")
            #expect(json["stop_reason"] as? String == "end_turn")
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["cache_read_input_tokens"] as? Int == 1000)
            #expect(usage["input_tokens"] as? Int == 10)
            let cost = try #require(usage["cost_usd"] as? Double)
            #expect(cost > 0)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "sonnet")
            #expect(reply.headers.first(name: "x-multiprodigy-cost-usd") != nil)
        }
    }

    @Test func aStreamPassesAnthropicsOwnEventsThrough() async throws {
        let events = [
            Canned.messageStart, Canned.event("ping", #"{"type":"ping"}"#), Canned.textStart, Canned.textDelta("Hel"),
            Canned.textDelta("lo"), Canned.textStop, Canned.messageDelta, Canned.messageStop,
        ]
        let claude = FakeUpstream(Canned.sse(events))
        let local = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [claude, local], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.POST, "/v1/messages", body: Self.richMessage(stream: true))
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            let received = MessagesEndToEndTests.namedEvents(reply.body)
            #expect(
                received.map(\.name) == [
                    "message_start", "ping", "content_block_start", "content_block_delta", "content_block_delta",
                    "content_block_stop", "message_delta", "message_stop",
                ]
            )
            let start = try #require(received.first?.data["message"] as? [String: Any])
            #expect(start["model"] as? String == "sonnet")
            #expect(start["id"] as? String == "msg_S")
            let delta = try #require(received.first { $0.name == "message_delta" }?.data["usage"] as? [String: Any])
            #expect(delta["output_tokens"] as? Int == 7)
            #expect((delta["cost_usd"] as? Double ?? 0) > 0)
            // The events between are the upstream's bytes.
            #expect(reply.body.contains(Canned.textDelta("Hel")))
            let sent = try #require(claude.requests.first)
            #expect(sent.path == "/v1/messages")
            #expect(sent.json["stream"] as? Bool == true)
        }
    }

    @Test func aNativeStreamCutMidAnswerEndsWithAnthropicsErrorEvent() async throws {
        // No message_delta, no message_stop: the upstream's body just ends.
        let claude = FakeUpstream(Canned.sse([Canned.messageStart, Canned.textStart, Canned.textDelta("Hel")]))
        let local = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [claude, local], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.POST, "/v1/messages", body: Self.richMessage(model: "claude-first", stream: true))
            #expect(reply.status == 200)
            let received = MessagesEndToEndTests.namedEvents(reply.body)
            #expect(received.map(\.name) == ["message_start", "content_block_start", "content_block_delta", "error"])
            #expect(!received.contains { $0.name == "message_stop" })
            let error = try #require(received.last?.data["error"] as? [String: Any])
            #expect(error["type"] as? String == "api_error")
            #expect((error["message"] as? String)?.contains("interrupted") == true)
            #expect(local.requests.isEmpty)
        }
    }

    @Test func anAnthropicFailureBeforeTheAnswerFailsOverToATranslatedTarget() async throws {
        let claude = FakeUpstream(Canned.anthropicError(529, type: "overloaded_error", message: "Overloaded"))
        let local = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion(content: "from local")))
        try await withGateway(upstreams: [claude, local], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.POST, "/v1/messages", body: Self.richMessage(model: "claude-first"))
            #expect(reply.status == 200)
            #expect(reply.json["type"] as? String == "message")
            let content = try #require(reply.json["content"] as? [[String: Any]])
            #expect(content.first?["text"] as? String == "from local")
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "small")
            #expect(claude.requests.count >= 1)
            #expect(local.requests.first?.path == "/v1/chat/completions")
        }
    }

    @Test func aServerToolGoesOnlyToAnAnthropicTarget() async throws {
        let tool = #","tools":[{"type":"web_search_20250305","name":"web_search","max_uses":2}]"#
        let claude = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.cachedMessage))
        let local = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [claude, local], yaml: Self.yaml) { gateway in
            // The route puts the OpenAI-compatible target first; only Anthropic can run the tool.
            let routed = try await gateway.send(.POST, "/v1/messages", body: Self.richMessage(model: "local-first", extra: tool))
            #expect(routed.status == 200)
            #expect(routed.headers.first(name: "x-multiprodigy-model") == "sonnet")
            #expect(local.requests.isEmpty)
            #expect((claude.requests.first?.json["tools"] as? [[String: Any]])?.first?["type"] as? String == "web_search_20250305")
            // A model with no Anthropic target is told so, in Anthropic's envelope.
            let refused = try await gateway.send(.POST, "/v1/messages", body: Self.richMessage(model: "small", extra: tool))
            #expect(refused.status == 400)
            #expect(refused.json["type"] as? String == "error")
            let error = try #require(refused.json["error"] as? [String: Any])
            #expect(error["type"] as? String == "invalid_request_error")
            #expect((error["message"] as? String)?.contains("web_search_20250305") == true)
            #expect(local.requests.isEmpty)
        }
    }

    @Test func countTokensIsAnthropicsOwnCountForAnAnthropicModel() async throws {
        let claude = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: #"{"input_tokens":1234}"#))
        let local = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [claude, local], yaml: Self.yaml) { gateway in
            let body = #"{"model":"sonnet","messages":[{"role":"user","content":"hello there"}]}"#
            let counted = try await gateway.send(
                .POST,
                "/v1/messages/count_tokens",
                body: body,
                headers: [("anthropic-beta", "token-counting-2024-11-01")]
            )
            #expect(counted.status == 200)
            #expect(counted.json["input_tokens"] as? Int == 1234)
            #expect(counted.json["estimated"] == nil)
            #expect(counted.headers.first(name: "x-multiprodigy-token-count") == "upstream")
            let sent = try #require(claude.requests.first)
            #expect(sent.path == "/v1/messages/count_tokens")
            #expect(sent.json["model"] as? String == "claude-sonnet-4-5")
            #expect(sent.headers[HTTPField.Name("anthropic-beta")!] == "token-counting-2024-11-01")
            // A model without an Anthropic target gets the gateway's estimate, saying so.
            let estimated = try await gateway.send(
                .POST,
                "/v1/messages/count_tokens",
                body: #"{"model":"small","messages":[{"role":"user","content":"hello there"}]}"#
            )
            #expect(estimated.status == 200)
            #expect(estimated.json["estimated"] as? Bool == true)
            #expect(estimated.headers.first(name: "x-multiprodigy-token-count") == "estimated")
            #expect(claude.requests.count == 1)
        }
    }

    @Test func personalDataOnlyAnthropicWouldReadStillKeepsTheRequestLocal() async throws {
        let claude = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.cachedMessage))
        let local = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion(content: "kept local")))
        try await withGateway(upstreams: [claude, local], yaml: Self.yaml + "\nprivacy: {detect_pii: true}\n") { gateway in
            // An e-mail address in a thinking block of the history: the chat translation drops
            // thinking, but the Anthropic target would get it.
            let thinking = Self.richMessage(model: "claude-first")
                .replacingOccurrences(of: "Add them.", with: "Mail the result to jane.doe@example.com.")
            let routed = try await gateway.send(.POST, "/v1/messages", body: thinking)
            #expect(routed.status == 200)
            #expect(routed.headers.first(name: "x-multiprodigy-model") == "small")
            #expect(claude.requests.isEmpty)
            // In a document only Anthropic reads, with no local target able to read it: refused.
            let document = #"""
                {"model":"claude-first","max_tokens":64,"messages":[{"role":"user","content":[\#
                {"type":"document","source":{"type":"text","media_type":"text/plain","data":"Contact: jane.doe@example.com"}},\#
                {"type":"text","text":"Summarise."}]}]}
                """#
            let refused = try await gateway.send(.POST, "/v1/messages", body: document)
            #expect(refused.status >= 400)
            #expect(refused.json["type"] as? String == "error")
            #expect(claude.requests.isEmpty)
            // Without personal data the same document goes to Anthropic.
            let clean = document.replacingOccurrences(of: "jane.doe@example.com", with: "the front desk")
            let served = try await gateway.send(.POST, "/v1/messages", body: clean)
            #expect(served.status == 200)
            #expect(claude.requests.count == 1)
        }
    }

    @Test func failingCountsFallBackToTheEstimateAndLeaveTheTargetsBreakerAlone() async throws {
        let claude = FakeUpstream(
            .byPath(
                [
                    (
                        prefix: "/v1/messages/count_tokens",
                        behaviour: FakeBehaviourBox(Canned.anthropicError(529, type: "overloaded_error", message: "Overloaded"))
                    )
                ],
                otherwise: FakeBehaviourBox(.raw(status: .ok, contentType: "application/json", body: Self.cachedMessage))
            )
        )
        let local = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [claude, local], yaml: Self.yaml) { gateway in
            let body = #"{"model":"claude-first","messages":[{"role":"user","content":"hello there"}]}"#
            for _ in 0..<12 {
                let counted = try await gateway.send(.POST, "/v1/messages/count_tokens", body: body)
                #expect(counted.status == 200)
                #expect(counted.headers.first(name: "x-multiprodigy-token-count") == "estimated")
            }
            #expect(claude.requests.count == 12)
            // Twelve failed counts did not open the breaker: the message still goes to Anthropic.
            let message = try await gateway.send(.POST, "/v1/messages", body: Self.richMessage(model: "claude-first"))
            #expect(message.status == 200)
            #expect(message.headers.first(name: "x-multiprodigy-model") == "sonnet")
            #expect(local.requests.isEmpty)
        }
    }
}
