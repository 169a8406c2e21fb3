import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import Testing

/// `POST /v1/responses` passed through to a `type: openai` target's own `/v1/responses` (the
/// default), kept in the gateway's store so that `previous_response_id` and `GET` work on any
/// target; `responses_api: translate` sends it through chat instead; built-in tools go only to
/// targets that speak the API; a cut native stream ends with the API's `error` event.
@Suite struct NativeResponsesTests {
    static let master = "test-master-key"
    /// `openai` (native Responses, at PORT0), `compat` (the same kind of server, asked through
    /// chat, at PORT1).
    static let yaml = """
        auth: {master_key: \(master)}
        providers:
        \(fakeProvider("openai", index: 0))
        \(fakeProvider("compat", index: 1, options: "{responses_api: translate}"))
        models:
          gpt: {provider: openai, model: gpt-upstream, price: {input: 1, output: 2}}
          compat: {provider: compat, model: compat-upstream}
        routes:
          gpt-first: {targets: [gpt, compat], policy: ordered}
          compat-first: {targets: [compat, gpt], policy: ordered}
        """

    static func create(_ gateway: GatewayClient, _ body: String) async throws -> GatewayClient.Reply {
        try await gateway.send(.POST, "/v1/responses", body: body, headers: [("authorization", "Bearer \(master)")])
    }

    static func response(id: String = "resp_upstream1", text: String = "Hello!") -> String {
        #"""
        {"id":"\#(id)","object":"response","created_at":1741476542,"status":"completed","error":null,\#
        "incomplete_details":null,"model":"gpt-upstream-2025","output":[{"type":"message","id":"msg_1",\#
        "status":"completed","role":"assistant","content":[{"type":"output_text","text":"\#(text)","annotations":[]}]}],\#
        "usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":20},"output_tokens":87,\#
        "output_tokens_details":{"reasoning_tokens":30},"total_tokens":123}}
        """#
    }

    static func event(_ type: String, _ sequence: Int, _ fields: String) -> String {
        "event: \(type)\ndata: {\"type\":\"\(type)\",\(fields),\"sequence_number\":\(sequence)}\n\n"
    }

    static let streamHead = [
        event(
            "response.created",
            0,
            #""response":{"id":"resp_S","object":"response","status":"in_progress","model":"gpt-upstream-2025","output":[]}"#
        ),
        event(
            "response.in_progress",
            1,
            #""response":{"id":"resp_S","object":"response","status":"in_progress","model":"gpt-upstream-2025","output":[]}"#
        ),
        event(
            "response.output_item.added",
            2,
            #""output_index":0,"item":{"type":"message","id":"msg_S","status":"in_progress","role":"assistant","content":[]}"#
        ),
        event("response.output_text.delta", 3, #""item_id":"msg_S","output_index":0,"content_index":0,"delta":"Hel""#),
    ]

    static let streamTail = [
        event("response.output_text.delta", 4, #""item_id":"msg_S","output_index":0,"content_index":0,"delta":"lo""#),
        event("response.output_text.done", 5, #""item_id":"msg_S","output_index":0,"content_index":0,"text":"Hello""#),
        event(
            "response.completed",
            6,
            #""response":{"id":"resp_S","object":"response","status":"completed","model":"gpt-upstream-2025","output":[{"type":"message","id":"msg_S","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]}],"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":2,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":7}}"#
        ),
    ]

    @Test func aResponseGoesToTheOpenAITargetsOwnResponsesAPI() async throws {
        let openai = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.response()))
        let compat = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [openai, compat], yaml: Self.yaml) { gateway in
            let body =
                #"{"model":"gpt","input":"hi","instructions":"Be brief.","include":["reasoning.encrypted_content"],"truncation":"auto"}"#
            let reply = try await Self.create(gateway, body)
            #expect(reply.status == 200)
            let sent = try #require(openai.requests.first)
            #expect(sent.path == "/v1/responses")
            #expect(sent.bodyString == body.replacingOccurrences(of: #""model":"gpt""#, with: #""model":"gpt-upstream""#))
            let json = reply.json
            // The gateway's own unguessable id, not the upstream's (which another server might
            // mint from a counter).
            let id = try #require(json["id"] as? String)
            #expect(id.hasPrefix("resp_") && id != "resp_upstream1" && id.count > 30)
            #expect(json["model"] as? String == "gpt")
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["output_tokens"] as? Int == 87)
            #expect((usage["cost_usd"] as? Double ?? 0) > 0)
            #expect(compat.requests.isEmpty)
            // Kept by the gateway, so it can be read back (and continued) on any target.
            let stored = try await gateway.send(.GET, "/v1/responses/\(id)", headers: [("authorization", "Bearer \(Self.master)")])
            #expect(stored.status == 200)
            #expect(stored.json["model"] as? String == "gpt")
            let upstreamID = try await gateway.send(
                .GET,
                "/v1/responses/resp_upstream1",
                headers: [("authorization", "Bearer \(Self.master)")]
            )
            #expect(upstreamID.status == 404)
        }
    }

    @Test func aContinuationSendsTheStoredConversationToANativeTarget() async throws {
        let openai = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.response(text: "Paris")))
        let compat = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion(content: "About 2 million.")))
        try await withGateway(upstreams: [openai, compat], yaml: Self.yaml) { gateway in
            // The first turn on the translated target, the second on the native one.
            let first = try await Self.create(gateway, #"{"model":"compat","input":"Capital of France?"}"#)
            #expect(first.status == 200)
            let firstID = try #require(first.json["id"] as? String)
            let second = try await Self.create(gateway, #"{"model":"gpt","previous_response_id":"\#(firstID)","input":"Its population?"}"#)
            #expect(second.status == 200)
            // The client sees the id it continued, which the upstream never saw.
            #expect(second.json["previous_response_id"] as? String == firstID)
            let sent = try #require(openai.requests.first)
            #expect(sent.json["previous_response_id"] == nil)
            let input = try #require(sent.json["input"] as? [[String: Any]])
            let texts = input.map { item -> String in
                if let content = item["content"] as? String { return content }
                let parts = item["content"] as? [[String: Any]] ?? []
                return parts.compactMap { $0["text"] as? String }.joined()
            }
            #expect(texts == ["Capital of France?", "About 2 million.", "Its population?"])
            // The gateway's own item ids never reach the upstream, which would refuse them.
            #expect(input.allSatisfy { $0["id"] == nil })
            // And a third turn, continuing the native answer, on the translated target.
            let secondID = try #require(second.json["id"] as? String)
            let third = try await Self.create(gateway, #"{"model":"compat","previous_response_id":"\#(secondID)","input":"Thanks"}"#)
            #expect(third.status == 200)
            let chat = try #require(compat.requests.last?.json["messages"] as? [[String: Any]])
            #expect(chat.compactMap { $0["content"] as? String }.contains("Paris"))
        }
    }

    @Test func aStreamPassesTheUpstreamsEventsThroughAndIsKept() async throws {
        let openai = FakeUpstream(.chunked(contentType: "text/event-stream", chunks: Self.streamHead + Self.streamTail))
        let compat = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [openai, compat], yaml: Self.yaml) { gateway in
            let reply = try await Self.create(gateway, #"{"model":"gpt","input":"hi","stream":true}"#)
            #expect(reply.status == 200)
            let events = MessagesEndToEndTests.namedEvents(reply.body)
            #expect(events.map { $0.data["sequence_number"] as? Int } == Array(0...6))
            #expect(events.last?.name == "response.completed")
            let completed = try #require(events.last?.data["response"] as? [String: Any])
            #expect(completed["model"] as? String == "gpt")
            // One gateway id from the first event to the last.
            let id = try #require((events.first?.data["response"] as? [String: Any])?["id"] as? String)
            #expect(id != "resp_S" && id.hasPrefix("resp_"))
            #expect(completed["id"] as? String == id)
            let usage = try #require(completed["usage"] as? [String: Any])
            #expect((usage["cost_usd"] as? Double ?? 0) > 0)
            #expect(reply.body.contains(Self.streamTail[0]))
            let stored = try await gateway.send(.GET, "/v1/responses/\(id)", headers: [("authorization", "Bearer \(Self.master)")])
            #expect(stored.status == 200)
            #expect(stored.json["status"] as? String == "completed")
        }
    }

    @Test func aCutNativeStreamEndsWithAnErrorEventNeverCompleted() async throws {
        let openai = FakeUpstream(.chunked(contentType: "text/event-stream", chunks: Self.streamHead))
        let compat = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [openai, compat], yaml: Self.yaml) { gateway in
            let reply = try await Self.create(gateway, #"{"model":"gpt-first","input":"hi","stream":true}"#)
            #expect(reply.status == 200)
            let events = MessagesEndToEndTests.namedEvents(reply.body)
            #expect(events.map(\.name).last == "error")
            #expect(!events.contains { $0.name == "response.completed" })
            #expect(events.last?.data["sequence_number"] as? Int == 4)
            #expect((events.last?.data["message"] as? String)?.contains("interrupted") == true)
            // Not kept: the answer is incomplete.
            let id = try #require((events.first?.data["response"] as? [String: Any])?["id"] as? String)
            let stored = try await gateway.send(.GET, "/v1/responses/\(id)", headers: [("authorization", "Bearer \(Self.master)")])
            #expect(stored.status == 404)
        }
    }

    @Test func translateSendsResponsesThroughChat() async throws {
        let openai = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.response()))
        let compat = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion(content: "via chat")))
        try await withGateway(upstreams: [openai, compat], yaml: Self.yaml) { gateway in
            let reply = try await Self.create(gateway, #"{"model":"compat","input":"hi"}"#)
            #expect(reply.status == 200)
            #expect(compat.requests.first?.path == "/v1/chat/completions")
            #expect(openai.requests.isEmpty)
            let output = try #require(reply.json["output"] as? [[String: Any]])
            let part = try #require((output.first?["content"] as? [[String: Any]])?.first)
            #expect(part["text"] as? String == "via chat")
        }
    }

    @Test func aBuiltInToolGoesOnlyToATargetThatSpeaksTheResponsesAPI() async throws {
        let openai = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.response()))
        let compat = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [openai, compat], yaml: Self.yaml) { gateway in
            let tools = #","tools":[{"type":"web_search_preview"}]"#
            let routed = try await Self.create(gateway, #"{"model":"compat-first","input":"news?"\#(tools)}"#)
            #expect(routed.status == 200)
            #expect(routed.headers.first(name: "x-multiprodigy-model") == "gpt")
            #expect(compat.requests.isEmpty)
            #expect((openai.requests.first?.json["tools"] as? [[String: Any]])?.first?["type"] as? String == "web_search_preview")
            let refused = try await Self.create(gateway, #"{"model":"compat","input":"news?"\#(tools)}"#)
            #expect(refused.status == 400)
            #expect(refused.error["code"] as? String == "unsupported_tool")
            #expect(refused.error["param"] as? String == "tools")
            #expect((refused.error["message"] as? String)?.contains("web_search_preview") == true)
            #expect(compat.requests.isEmpty)
        }
    }

    @Test func aConversationHoldingInputOnlyANativeTargetReadsStaysOnNativeTargets() async throws {
        let openai = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: Self.response(text: "A summary.")))
        let compat = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [openai, compat], yaml: Self.yaml) { gateway in
            let file = #"{"type":"input_file","file_id":"file-abc"}"#
            let first = try await Self.create(gateway, #"{"model":"gpt-first","input":[{"role":"user","content":[\#(file)]}]}"#)
            #expect(first.status == 200)
            let firstID = try #require(first.json["id"] as? String)
            // A plain follow-up would lose the file on a chat target: it stays native ...
            let routed = try await Self.create(
                gateway,
                #"{"model":"compat-first","previous_response_id":"\#(firstID)","input":"More detail?"}"#
            )
            #expect(routed.status == 200)
            #expect(routed.headers.first(name: "x-multiprodigy-model") == "gpt")
            #expect(compat.requests.isEmpty)
            // ... and a model with no native target is told why.
            let refused = try await Self.create(gateway, #"{"model":"compat","previous_response_id":"\#(firstID)","input":"More detail?"}"#)
            #expect(refused.status == 400)
            #expect((refused.error["message"] as? String)?.contains("stored conversation") == true)
            #expect(compat.requests.isEmpty)
        }
    }
}
