import Foundation
import Testing

extension OneSuiteAtATime {
    /// A non-streaming request reaches its targets as a stream the gateway assembles
    /// (`non_streaming: assembled`, the default), so a silent target fails over as fast as for a
    /// streaming request, and a long answer that keeps coming is never cut.
    @Suite struct NonStreamingFailoverTests {
        /// Route `r`: `first` then `second`, with short first-byte and first-token limits and a long total.
        private static let yaml = """
            providers:
            \(fakeProvider("a", index: 0))\(fakeProvider("b", index: 1))
            models:
              first: {provider: a}
              second: {provider: b}
            routes:
              r: {targets: [first, second]}
            resilience: {timeouts: {first_byte: 1s, first_token: 2s, stall: 3s, total: 60s}}
            """

        @Test(arguments: [false, true])
        func aPrimaryThatNeverSendsAHeadIsLeftWithinFirstByte(tls: Bool) async throws {
            let silent = FakeUpstream(.hang)
            let fallback = FakeUpstream(.stream(events: FakeUpstream.stream(["Hi", "!"]) + [FakeUpstream.usageChunk()]))
            try await withGateway(upstreams: [silent, fallback], yaml: Self.yaml, tlsUpstreams: tls) { gateway in
                let started = ContinuousClock.now
                let reply = try await gateway.chat("r")
                let answered = ContinuousClock.now
                let elapsed = answered - started
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
                #expect(reply.json["object"] as? String == "chat.completion")
                let message = (reply.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
                #expect(message?["content"] as? String == "Hi!")
                #expect((reply.json["usage"] as? [String: Any])?["completion_tokens"] as? Int == 2)
                // The silence shows at first_byte (1 s), where a share of the 60 s total would be 30 s:
                // the fallback is asked within first_byte + 1 s of the silent target. The client's own
                // wait (1.01 s on an idle machine) gets more room for a test machine under load.
                let asked = try #require(fallback.requests.first?.receivedAt)
                let silentAsked = try #require(silent.requests.first?.receivedAt)
                #expect(asked - silentAsked < .seconds(2), "\(asked - silentAsked)")
                // The client's answer follows the fallback's at once (2 s more for a loaded machine).
                #expect(answered - asked < .seconds(2), "\(answered - asked)")
                #expect(elapsed < .seconds(5), "\(elapsed)")
                #expect(fallback.requests.first?.json["stream"] as? Bool == true)
            }
        }

        @Test func aPrimaryThatSendsAHeadButNoBodyIsLeftWithinFirstToken() async throws {
            let gate = Gate()
            defer { gate.open() }
            let silent = FakeUpstream(.gatedStream(first: [], gate: gate, rest: []))
            let fallback = FakeUpstream(.stream(events: FakeUpstream.stream(["Hi", "!"])))
            try await withGateway(upstreams: [silent, fallback], yaml: Self.yaml) { gateway in
                let started = ContinuousClock.now
                let reply = try await gateway.chat("r")
                let answered = ContinuousClock.now
                let elapsed = answered - started
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
                // first_token (2 s), where a share of the 60 s total would be 30 s: the fallback is asked
                // within first_token + 1 s of the silent target. The client's own wait (2.03 s on an
                // idle machine) gets more room for a test machine under load.
                let asked = try #require(fallback.requests.first?.receivedAt)
                let silentAsked = try #require(silent.requests.first?.receivedAt)
                #expect(asked - silentAsked < .seconds(3), "\(asked - silentAsked)")
                // first_token, not first_byte (1 s), is what left it: the head had come.
                #expect(asked - silentAsked >= .milliseconds(1900), "\(asked - silentAsked)")
                // The client's answer follows the fallback's at once (2 s more for a loaded machine).
                #expect(answered - asked < .seconds(2), "\(answered - asked)")
                #expect(elapsed < .seconds(5), "\(elapsed)")
                #expect(silent.requests.count == 1, "a silent target is not asked again")
            }
        }

        /// The Messages and Responses APIs' non-streaming requests that reach a target through its chat
        /// translation are streamed and assembled too: a target that opens its answer and says nothing
        /// is left at first_token.
        @Test(arguments: ["/v1/messages", "/v1/responses"])
        func aTranslatedFrontDoorRequestLeavesASilentPrimaryWithinFirstToken(path: String) async throws {
            let gate = Gate()
            defer { gate.open() }
            let silent = FakeUpstream(.gatedStream(first: [], gate: gate, rest: []))
            let fallback = FakeUpstream(.stream(events: FakeUpstream.stream(["Hi", "!"]) + [FakeUpstream.usageChunk()]))
            // `responses_api: translate`: the fakes serve chat alone, as TGI or an older server would.
            let yaml = Self.yaml
                .replacingOccurrences(of: "locality: local}", with: "locality: local, options: {responses_api: translate}}")
            #expect(yaml != Self.yaml)
            let body =
                path == "/v1/messages"
                ? #"{"model":"r","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#
                : #"{"model":"r","input":"hi"}"#
            try await withGateway(upstreams: [silent, fallback], yaml: yaml) { gateway in
                let reply = try await gateway.send(.POST, path, body: body)
                let answered = ContinuousClock.now
                #expect(reply.status == 200, "\(reply.body)")
                #expect(reply.body.contains("Hi!"), "\(reply.body)")
                #expect(reply.json["type"] as? String == (path == "/v1/messages" ? "message" : nil))
                #expect(reply.json["object"] as? String == (path == "/v1/responses" ? "response" : nil))
                #expect(silent.requests.first?.json["stream"] as? Bool == true)
                #expect(fallback.requests.first?.json["stream"] as? Bool == true)
                let asked = try #require(fallback.requests.first?.receivedAt)
                let silentAsked = try #require(silent.requests.first?.receivedAt)
                #expect(asked - silentAsked >= .milliseconds(1900), "\(asked - silentAsked)")
                #expect(answered - asked < .seconds(2), "\(answered - asked)")
                #expect(silent.requests.count == 1)
            }
        }

        /// A long answer that keeps coming runs until `total`, and no longer: the call ends with a
        /// 504 at `total` however steady the stream.
        @Test func aSteadyAnswerPastTheTotalEndsAtTheTotal() async throws {
            let words = (0..<60).map { "w\($0) " }
            let steady = FakeUpstream(.stream(events: FakeUpstream.stream(words), delay: .milliseconds(100)))
            let yaml = """
                providers:
                \(fakeProvider("a", index: 0))
                models:
                  first: {provider: a}
                resilience: {timeouts: {first_byte: 3s, first_token: 3s, stall: 3s, total: 2s}}
                """
            try await withGateway(upstreams: [steady], yaml: yaml) { gateway in
                let started = ContinuousClock.now
                let reply = try await gateway.chat("first")
                let elapsed = ContinuousClock.now - started
                #expect(reply.status == 504, "\(reply.body)")
                #expect(reply.error["code"] as? String == "upstream_timeout")
                // 6 s of answer, cut at the 2 s total (more room for a loaded machine, less than the answer).
                #expect(elapsed < .seconds(5), "\(elapsed)")
                #expect(elapsed >= .milliseconds(1900), "\(elapsed)")
            }
        }

        @Test func aSlowButSteadyLongAnswerIsNotCut() async throws {
            // 40 words 200 ms apart: 8 s in all, over twice first_token and stall (3 s each), each gap well
            // inside both (stall is 15 gaps). first_byte is 3 s here too: a test machine under load once took
            // more than the suite's 1 s to deliver the request, and the steady target was left for that.
            let words = (0..<40).map { "w\($0) " }
            let steady = FakeUpstream(.stream(events: FakeUpstream.stream(words), delay: .milliseconds(200)))
            let fallback = FakeUpstream(.stream(events: FakeUpstream.stream(["fallback"])))
            let yaml = Self.yaml.replacingOccurrences(
                of: "first_byte: 1s, first_token: 2s, stall: 3s",
                with: "first_byte: 3s, first_token: 3s, stall: 3s"
            )
            #expect(yaml != Self.yaml)
            try await withGateway(upstreams: [steady, fallback], yaml: yaml) { gateway in
                let reply = try await gateway.chat("r")
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "first")
                let message = (reply.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
                #expect(message?["content"] as? String == words.joined())
                #expect(steady.requests.count == 1)
                #expect(fallback.requests.isEmpty)
            }
        }

        @Test func anAnswerCutMidwayIsAskedOfTheNextTargetWhole() async throws {
            // The client of a non-streaming request has seen nothing, so a cut answer starts over.
            let cut = FakeUpstream(.stream(events: [FakeUpstream.roleChunk(), FakeUpstream.contentChunk("Hal")], done: false))
            let fallback = FakeUpstream(.stream(events: FakeUpstream.stream(["Hello", " there"])))
            try await withGateway(upstreams: [cut, fallback], yaml: Self.yaml) { gateway in
                let reply = try await gateway.chat("r")
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
                let choice = (reply.json["choices"] as? [[String: Any]])?.first
                #expect((choice?["message"] as? [String: Any])?["content"] as? String == "Hello there")
                #expect(choice?["finish_reason"] as? String == "stop")
            }
        }

        @Test func aServerThatIgnoresStreamAndAnswersJSONIsRelayed() async throws {
            let plain = FakeUpstream(
                .respond(
                    status: .ok,
                    body: FakeUpstream.completion(content: "Whole", extra: #","prompt_logprobs":null,"kv_transfer_params":{"x":1}"#)
                )
            )
            let yaml = "providers:\n\(fakeProvider("a", index: 0))models:\n  first: {provider: a}\n"
            try await withGateway(upstreams: [plain], yaml: yaml) { gateway in
                let reply = try await gateway.chat("first")
                #expect(reply.status == 200)
                #expect(plain.requests.first?.json["stream"] as? Bool == true)
                let choice = (reply.json["choices"] as? [[String: Any]])?.first
                #expect((choice?["message"] as? [String: Any])?["content"] as? String == "Whole")
                #expect(reply.json["system_fingerprint"] as? String == "fp_x")
                #expect((reply.json["kv_transfer_params"] as? [String: Any])?["x"] as? Int == 1)
                #expect((reply.json["usage"] as? [String: Any])?["completion_tokens"] as? Int == 4)
                // The same answer streamed to a streaming client.
                let streamed = try await gateway.chat("first", stream: true)
                #expect(streamed.events.last == "[DONE]")
                #expect(streamed.body.contains("Whole"))
            }
        }

        @Test func aDirectModelIsAskedForTheWholeAnswer() async throws {
            let upstream = FakeUpstream(FakeUpstream.answer)
            let yaml = "providers:\n\(fakeProvider("a", index: 0))models:\n  first: {provider: a, non_streaming: direct}\n"
            try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
                let reply = try await gateway.chat("first")
                #expect(reply.status == 200)
                #expect(reply.body.contains("Hello from upstream"))
                #expect(upstream.requests.first?.json["stream"] as? Bool == false)
            }
        }

        @Test func anAssembledAnswerLargerThanTheResponseLimitFailsOver() async throws {
            // 200 chunks of 100 letters: 20 KB of text, past a 16 KiB limit.
            let long = FakeUpstream(.stream(events: FakeUpstream.stream(Array(repeating: String(repeating: "a", count: 100), count: 200))))
            let fallback = FakeUpstream(.stream(events: FakeUpstream.stream(["short"])))
            let yaml = Self.yaml + "\nserver: {max_response_bytes: 16KiB}\n"
            try await withGateway(upstreams: [long, fallback], yaml: yaml) { gateway in
                let reply = try await gateway.chat("r")
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "x-multiprodigy-model") == "second")
                #expect(reply.body.contains("short"))
            }
        }

        @Test func aRequestTheUpstreamWillNotStreamIsAskedWhole() async throws {
            let refusing =
                #"{"error":{"message":"Your organization must be verified to stream this model.","type":"invalid_request_error","param":"stream","code":"unsupported_value"}}"#
            let upstream = FakeUpstream(
                .byStreamFlag(
                    streaming: FakeBehaviourBox(.respond(status: .badRequest, body: refusing)),
                    plain: FakeBehaviourBox(.respond(status: .ok, body: FakeUpstream.completion(content: "Whole")))
                )
            )
            let yaml = "providers:\n\(fakeProvider("a", index: 0))models:\n  first: {provider: a}\n"
            try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
                let reply = try await gateway.chat("first")
                #expect(reply.status == 200)
                #expect(reply.body.contains("Whole"))
                #expect(upstream.requests.map { $0.json["stream"] as? Bool } == [true, false])
                // Any other 400 is the client's, as before.
                upstream.script([
                    .respond(status: .badRequest, body: #"{"error":{"message":"bad temperature","type":"invalid_request_error"}}"#)
                ])
                let refused = try await gateway.chat("first")
                #expect(refused.status == 400)
                #expect(upstream.requests.count == 3)
            }
        }
    }
}

/// The suite by its own name, for the other tests that use its helpers.
typealias NonStreamingFailoverTests = OneSuiteAtATime.NonStreamingFailoverTests
