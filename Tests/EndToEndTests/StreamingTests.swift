import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// Streaming `POST /v1/chat/completions`: chunks relayed as they arrive, `model` rewritten, honest endings.
@Suite struct StreamingTests {
    static let yaml = """
        providers:
        \(fakeProvider("local", index: 0))
        models:
          small: {provider: local, model: upstream-small}
        """

    @Test func chunksAreRelayedWithTheDeclaredModelAndEndWithDone() async throws {
        let upstream = FakeUpstream(.stream(events: FakeUpstream.stream(["Hel", "lo"]) + [FakeUpstream.usageChunk()]))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("small", stream: true, extra: #","stream_options":{"include_usage":true}"#)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "small")
            let events = reply.events
            #expect(events.last == "[DONE]")
            #expect(events.count == 6)
            for event in events.dropLast() {
                #expect(event.contains(#""model":"small""#), "every chunk names the declared model")
            }
            #expect(events[1].contains(#""content":"Hel""#))
            #expect(events[4].contains(#""usage":{"prompt_tokens":9"#), "the usage chunk passes through")
            #expect(upstream.requests.first?.json["stream_options"] as? [String: Bool] == ["include_usage": true])
        }
    }

    @Test func firstChunkReachesTheClientWhileTheUpstreamIsStillSending() async throws {
        let gate = Gate()
        let upstream = FakeUpstream(
            .gatedStream(
                first: [FakeUpstream.roleChunk(), FakeUpstream.contentChunk("early")],
                gate: gate,
                rest: [FakeUpstream.contentChunk("late"), FakeUpstream.finishChunk()]
            )
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            var request = HTTPClientRequest(url: gateway.baseURL + "/v1/chat/completions")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: #"{"model":"small","stream":true,"messages":[{"role":"user","content":"hi"}]}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            #expect(response.status == .ok)
            var received = ""
            var iterator = response.body.makeAsyncIterator()
            while !received.contains("early") {
                guard let buffer = try await iterator.next() else { break }
                received += String(buffer: buffer)
            }
            #expect(received.contains("early"))
            #expect(!received.contains("late"), "the upstream has not sent 'late' yet: the gate is closed")
            gate.open()
            while let buffer = try await iterator.next() { received += String(buffer: buffer) }
            #expect(received.contains("late"))
            #expect(received.hasSuffix("data: [DONE]\n\n"))
        }
    }

    @Test func streamCutAfterContentEndsWithAnInBandErrorAndNoDone() async throws {
        let upstream = FakeUpstream(.stream(events: [FakeUpstream.roleChunk(), FakeUpstream.contentChunk("partial")], done: false))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("small", stream: true)
            #expect(reply.status == 200)
            let events = reply.events
            #expect(!events.contains("[DONE]"))
            #expect(!reply.body.contains(#""finish_reason":"stop""#))
            let last = try #require(events.last)
            #expect(last.contains(#""code":"stream_interrupted""#))
            #expect(events.contains { $0.contains("partial") })
        }
    }

    @Test func streamWithFinishReasonButNoDoneIsFinalisedWithDone() async throws {
        let upstream = FakeUpstream(.stream(events: FakeUpstream.stream(["all"]), done: false))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("small", stream: true)
            #expect(reply.events.last == "[DONE]")
            #expect(!reply.body.contains("stream_interrupted"))
        }
    }

    @Test func streamOfTwoChoicesCutAfterOnlyOneFinishedIsInterrupted() async throws {
        let choice0Done =
            #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}"#
        let choice1Partial =
            #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":1,"delta":{"content":"b"},"finish_reason":null}]}"#
        let upstream = FakeUpstream(.stream(events: [choice0Done, choice1Partial], done: false))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("small", stream: true, extra: #","n":2"#)
            #expect(!reply.events.contains("[DONE]"))
            #expect(reply.events.last?.contains("stream_interrupted") == true)
        }
    }

    @Test func stallAfterCommitEndsWithAnInBandError() async throws {
        let upstream = FakeUpstream(
            .gatedStream(first: [FakeUpstream.roleChunk(), FakeUpstream.contentChunk("so far")], gate: Gate(), rest: [])
        )
        let yaml = Self.yaml + "\nresilience:\n  timeouts: {stall: 300ms}\n"
        try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
            let started = ContinuousClock.now
            let reply = try await gateway.chat("small", stream: true)
            // Held forever otherwise: half of the 60 s or more any other limit would take.
            #expect(ContinuousClock.now - started < .seconds(30))
            #expect(reply.events.last?.contains("stall limit") == true)
            #expect(!reply.events.contains("[DONE]"))
        }
    }

    @Test func malformedChunkIsSkippedAndTheRestRelayed() async throws {
        let upstream = FakeUpstream(
            .stream(events: [
                FakeUpstream.roleChunk(), FakeUpstream.contentChunk("a"), "{not json", FakeUpstream.contentChunk("b"),
                FakeUpstream.finishChunk(),
            ])
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("small", stream: true)
            #expect(!reply.body.contains("{not json"))
            #expect(reply.events.contains { $0.contains(#""content":"b""#) })
            #expect(reply.events.last == "[DONE]")
        }
    }

    @Test func midStreamUpstreamErrorObjectBecomesAnInBandError() async throws {
        let upstream = FakeUpstream(
            .stream(
                events: [
                    FakeUpstream.contentChunk("x"), #"{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}"#,
                ],
                done: false
            )
        )
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("small", stream: true)
            #expect(reply.events.last?.contains("overloaded") == true)
            #expect(reply.events.last?.contains("stream_interrupted") == true)
            #expect(!reply.events.contains("[DONE]"))
        }
    }

    @Test func upstreamClientErrorOnAStreamPassesThroughBeforeAnyEvent() async throws {
        let body =
            #"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#
        let upstream = FakeUpstream(.respond(status: .badRequest, body: body))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("small", stream: true)
            #expect(reply.status == 400)
            #expect(reply.headers.first(name: "content-type") == "application/json")
            #expect(reply.error["code"] as? String == "context_length_exceeded")
            #expect(reply.error["param"] as? String == "messages")
        }
    }

    @Test func clientDisconnectMidStreamCancelsTheUpstreamRequest() async throws {
        let upstream = FakeUpstream(.endlessStream(event: FakeUpstream.contentChunk("tick"), interval: .milliseconds(20)))
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                var request = HTTPClientRequest(url: gateway.baseURL + "/v1/chat/completions")
                request.method = .POST
                request.body = .bytes(ByteBuffer(string: #"{"model":"small","stream":true,"messages":[{"role":"user","content":"hi"}]}"#))
                let response = try await client.execute(request, timeout: .seconds(60))
                var iterator = response.body.makeAsyncIterator()
                _ = try await iterator.next()
                _ = try await iterator.next()
            }
            try? await client.shutdown()
            try await waitFor { upstream.disconnects > 0 }
            #expect(upstream.disconnects == 1, "the gateway closed its upstream request when the client went away")
            let after = try await gateway.send(.GET, "/health")
            #expect(after.status == 200, "the gateway stays healthy")
        }
    }
}
