import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// `POST /v1/responses` through the chat path, and the stored responses: answers and streams in the
/// Responses API's shapes, conversations continued by `previous_response_id`, each response visible
/// only to the key that created it.
@Suite struct ResponsesEndToEndTests {
    static let master = "test-master-key"
    static let masterHeader = [("authorization", "Bearer \(master)")]
    static let yaml = """
        auth: {master_key: \(master)}
        providers:
        \(fakeProvider("local", index: 0, options: "{responses_api: translate}"))
        models:
          small: {provider: local, model: upstream-small}
        """

    static func create(_ gateway: GatewayClient, _ body: String, key: String = master) async throws -> GatewayClient.Reply {
        try await gateway.send(.POST, "/v1/responses", body: body, headers: [("authorization", "Bearer \(key)")])
    }

    @Test func aResponseIsAnsweredInTheResponsesShape() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion(content: "Hello!")))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await Self.create(gateway, #"{"model":"small","instructions":"Be brief.","input":"hi","max_output_tokens":50}"#)
            #expect(reply.status == 200)
            let json = reply.json
            #expect(json["object"] as? String == "response")
            #expect(json["status"] as? String == "completed")
            #expect(json["model"] as? String == "small")
            #expect((json["id"] as? String)?.hasPrefix("resp_") == true)
            let output = try #require(json["output"] as? [[String: Any]])
            let message = try #require(output.first { $0["type"] as? String == "message" })
            let part = try #require((message["content"] as? [[String: Any]])?.first)
            #expect(part["type"] as? String == "output_text")
            #expect(part["text"] as? String == "Hello!")
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["input_tokens"] as? Int == 9)
            #expect(usage["output_tokens"] as? Int == 4)
            #expect(usage["total_tokens"] as? Int == 13)
            let sent = try #require(upstream.requests.first)
            #expect(sent.path == "/v1/chat/completions")
            let messages = try #require(sent.json["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["system", "user"])
            #expect(messages.first?["content"] as? String == "Be brief.")
        }
    }

    @Test func aStreamIsRenderedAsTheResponsesEvents() async throws {
        let upstream = FakeUpstream(.stream(events: FakeUpstream.stream(["Hel", "lo"]) + [FakeUpstream.usageChunk()]))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await Self.create(gateway, #"{"model":"small","input":"hi","stream":true}"#)
            #expect(reply.status == 200)
            let events = MessagesEndToEndTests.namedEvents(reply.body)
            #expect(
                events.map(\.name) == [
                    "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                    "response.output_text.delta", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
                    "response.output_item.done", "response.completed",
                ]
            )
            let numbers = events.compactMap { $0.data["sequence_number"] as? Int }
            #expect(numbers == Array(0..<events.count))
            let text = events.filter { $0.name == "response.output_text.delta" }.compactMap { $0.data["delta"] as? String }
            #expect(text.joined() == "Hello")
            let completed = try #require(events.last?.data["response"] as? [String: Any])
            #expect(completed["status"] as? String == "completed")
            #expect((completed["usage"] as? [String: Any])?["output_tokens"] as? Int == 2)
        }
    }

    @Test func aCutStreamEndsWithResponseFailedAndNeverCompleted() async throws {
        let upstream = FakeUpstream(.stream(events: [FakeUpstream.roleChunk(), FakeUpstream.contentChunk("partial")], done: false))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await Self.create(gateway, #"{"model":"small","input":"hi","stream":true}"#)
            #expect(reply.status == 200)
            let events = MessagesEndToEndTests.namedEvents(reply.body)
            #expect(events.contains { $0.name == "response.output_text.delta" })
            #expect(!events.contains { $0.name == "response.completed" })
            let last = try #require(events.last)
            #expect(last.name == "response.failed")
            #expect((last.data["response"] as? [String: Any])?["status"] as? String == "failed")
        }
    }

    @Test func aStreamCutMidAnswerIsContinuedOnTheNextTarget() async throws {
        let first = FakeUpstream(StreamContinuationTests.cutAnswer)
        let second = FakeUpstream(StreamContinuationTests.rest)
        let third = FakeUpstream()
        // The fakes speak chat only: the providers translate Responses through it.
        let yaml = StreamContinuationTests.openAIContinuing.replacingOccurrences(
            of: "locality: local}",
            with: "locality: local, options: {responses_api: translate}}"
        )
        try await withGateway(upstreams: [first, second, third], yaml: yaml) { gateway in
            let reply = try await gateway.send(.POST, "/v1/responses", body: #"{"model":"r","input":"hi","stream":true}"#)
            #expect(reply.status == 200)
            let events = MessagesEndToEndTests.namedEvents(reply.body)
            let text = events.filter { $0.name == "response.output_text.delta" }.compactMap { $0.data["delta"] as? String }
            #expect(text.joined() == "Hello world!")
            #expect(events.last?.name == "response.completed")
        }
    }

    @Test func storedResponsesAreRetrievedListedContinuedAndDeleted() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion(content: "Paris is in France.")))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let created = try await Self.create(gateway, #"{"model":"small","input":[{"role":"user","content":"Where is Paris?"}]}"#)
            #expect(created.status == 200)
            let id = try #require(created.json["id"] as? String)

            let retrieved = try await gateway.send(.GET, "/v1/responses/\(id)", headers: Self.masterHeader)
            #expect(retrieved.status == 200)
            #expect(retrieved.json["id"] as? String == id)
            #expect(retrieved.json["status"] as? String == "completed")

            let items = try await gateway.send(.GET, "/v1/responses/\(id)/input_items", headers: Self.masterHeader)
            #expect(items.status == 200)
            #expect(items.json["object"] as? String == "list")
            let data = try #require(items.json["data"] as? [[String: Any]])
            #expect(data.count == 1)
            #expect(data.first?["role"] as? String == "user")

            // The next turn carries the first turn's question and answer to the upstream.
            upstream.script([.respond(status: .ok, body: FakeUpstream.completion(content: "About 2 million."))])
            let next = try await Self.create(
                gateway,
                #"{"model":"small","previous_response_id":"\#(id)","input":"How many people live there?"}"#
            )
            #expect(next.status == 200, "\(next.body)")
            #expect(next.json["previous_response_id"] as? String == id)
            let sent = try #require(upstream.requests.last?.json["messages"] as? [[String: Any]])
            #expect(sent.map { $0["role"] as? String } == ["user", "assistant", "user"])
            #expect(sent[1]["content"] as? String == "Paris is in France.")

            let deleted = try await gateway.send(.DELETE, "/v1/responses/\(id)", headers: Self.masterHeader)
            #expect(deleted.status == 200)
            #expect(deleted.json["deleted"] as? Bool == true)
            let gone = try await gateway.send(.GET, "/v1/responses/\(id)", headers: Self.masterHeader)
            #expect(gone.status == 404)
            #expect(gone.error["message"] != nil)
            let unknownPrevious = try await Self.create(gateway, #"{"model":"small","previous_response_id":"\#(id)","input":"x"}"#)
            #expect(unknownPrevious.status == 404)
            #expect(unknownPrevious.error["param"] as? String == "previous_response_id")
        }
    }

    @Test func aResponseIsVisibleOnlyToTheKeyThatCreatedIt() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            func createKey(_ name: String) async throws -> String {
                let reply = try await gateway.send(.POST, "/admin/keys", body: #"{"name":"\#(name)"}"#, headers: Self.masterHeader)
                #expect(reply.status == 201, "\(reply.body)")
                return try #require(reply.json["key"] as? String)
            }
            let alice = try await createKey("alice")
            let bob = try await createKey("bob")
            let created = try await Self.create(gateway, #"{"model":"small","input":"secret plans"}"#, key: alice)
            let id = try #require(created.json["id"] as? String)
            let asAlice = [("authorization", "Bearer \(alice)")]
            let asBob = [("authorization", "Bearer \(bob)")]
            #expect(try await gateway.send(.GET, "/v1/responses/\(id)", headers: asAlice).status == 200)
            #expect(try await gateway.send(.GET, "/v1/responses/\(id)", headers: asBob).status == 404)
            #expect(try await gateway.send(.GET, "/v1/responses/\(id)", headers: Self.masterHeader).status == 404)
            #expect(try await gateway.send(.GET, "/v1/responses/\(id)/input_items", headers: asBob).status == 404)
            #expect(try await gateway.send(.DELETE, "/v1/responses/\(id)", headers: asBob).status == 404)
            let continued = try await Self.create(gateway, #"{"model":"small","previous_response_id":"\#(id)","input":"more"}"#, key: bob)
            #expect(continued.status == 404)
            #expect(try await gateway.send(.GET, "/v1/responses/\(id)", headers: asAlice).status == 200, "Bob's delete changed nothing")
            #expect(try await gateway.send(.GET, "/v1/responses/\(id)").status == 401)
        }
    }

    @Test func aConversationIsHeldToTheRequestSizeLimitAndIdsAreUnguessable() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        let yaml = Self.yaml + "\nserver: {max_request_bytes: 2KiB}\n"
        try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
            let long = String(repeating: "word ", count: 240)
            let first = try await Self.create(gateway, #"{"model":"small","input":"\#(long)"}"#)
            #expect(first.status == 200)
            let id = try #require(first.json["id"] as? String)
            // resp_ and 32 hex digits: 128 random bits, not a counter a caller could walk.
            #expect(id.count == 37)
            let other = try #require(try await Self.create(gateway, #"{"model":"small","input":"x"}"#).json["id"] as? String)
            #expect(other != id)
            #expect(other.prefix(20) != id.prefix(20))
            let second = try await Self.create(gateway, #"{"model":"small","previous_response_id":"\#(id)","input":"\#(long)"}"#)
            #expect(second.status == 413)
            #expect(second.error["code"] as? String == "conversation_too_large")
            #expect(upstream.requests.count == 2, "the oversized continuation never went upstream")
        }
    }

    @Test func storeFalseKeepsNothing() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let created = try await Self.create(gateway, #"{"model":"small","input":"hi","store":false}"#)
            #expect(created.status == 200)
            let id = try #require(created.json["id"] as? String)
            #expect(try await gateway.send(.GET, "/v1/responses/\(id)", headers: Self.masterHeader).status == 404)
        }
    }

    @Test func aFunctionToolRoundTripContinuesTheStoredConversation() async throws {
        let toolAnswer = #"""
            {"id":"chatcmpl-t","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_7","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25}}
            """#
        let upstream = FakeUpstream(.respond(status: .ok, body: toolAnswer))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let tools =
                #""tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]"#
            let first = try await Self.create(gateway, #"{"model":"small","input":"Weather in Paris?",\#(tools)}"#)
            #expect(first.status == 200)
            let call = try #require((first.json["output"] as? [[String: Any]])?.first { $0["type"] as? String == "function_call" })
            #expect(call["call_id"] as? String == "call_7")
            #expect(call["name"] as? String == "get_weather")
            #expect(call["arguments"] as? String == #"{"city":"Paris"}"#)
            let id = try #require(first.json["id"] as? String)

            upstream.script([.respond(status: .ok, body: FakeUpstream.completion(content: "Sunny, 22C."))])
            let second = try await Self.create(
                gateway,
                #"{"model":"small","previous_response_id":"\#(id)","input":[{"type":"function_call_output","call_id":"call_7","output":"22C and sunny"}],\#(tools)}"#
            )
            #expect(second.status == 200, "\(second.body)")
            let sent = try #require(upstream.requests.last?.json["messages"] as? [[String: Any]])
            #expect(sent.map { $0["role"] as? String } == ["user", "assistant", "tool"])
            #expect(sent[2]["tool_call_id"] as? String == "call_7")
            #expect(sent[2]["content"] as? String == "22C and sunny")
        }
    }

    @Test func badInputGetsOpenAIsErrorShape() async throws {
        let upstream = FakeUpstream()
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let malformed = try await Self.create(gateway, "{nope")
            #expect(malformed.status == 400)
            #expect(malformed.error["type"] as? String == "invalid_request_error")
            let badItem = try await Self.create(gateway, #"{"model":"small","input":[{"type":5}]}"#)
            #expect(badItem.status == 400)
            #expect((badItem.error["param"] as? String)?.hasPrefix("input") == true)
            // An item only a native target can read, and the model has none.
            let nativeOnly = try await Self.create(gateway, #"{"model":"small","input":[{"type":"item_reference","id":"msg_1"}]}"#)
            #expect(nativeOnly.status == 400)
            #expect(nativeOnly.error["param"] as? String == "input")
            #expect((nativeOnly.error["message"] as? String)?.contains("item_reference") == true)
            let builtIn = try await Self.create(gateway, #"{"model":"small","input":"hi","tools":[{"type":"web_search"}]}"#)
            #expect(builtIn.status == 400)
            #expect(builtIn.error["param"] as? String == "tools")
            let unknownModel = try await Self.create(gateway, #"{"model":"nope","input":"hi"}"#)
            #expect(unknownModel.status == 404)
            #expect(upstream.requests.isEmpty)
        }
    }
}
