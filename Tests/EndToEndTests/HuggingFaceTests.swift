import HTTPTypes
import NIOCore
import Testing

@testable import MultiProdigyCore
@testable import MultiProdigyJSON
@testable import MultiProdigyProviders

/// `type: huggingface`: TGI's Messages API with Hugging Face's error shapes.
@Suite struct HuggingFaceTests {
    static let yaml = """
        providers:
          tgi: {type: huggingface, base_url: "http://127.0.0.1:{PORT0}", locality: local}
          backup: {type: openai, base_url: "http://127.0.0.1:{PORT1}/v1", locality: local}
        models:
          llama: {provider: tgi, model: tgi, non_streaming: direct}
          other: {provider: backup, model: other-upstream, non_streaming: direct}
        routes:
          auto: {policy: ordered, targets: [llama, other]}
        """

    @Test func chatGoesToTheMessagesAPIBesideTheRoot() async throws {
        let tgi = FakeUpstream()
        try await withGateway(upstreams: [tgi, FakeUpstream()], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("llama")
            #expect(reply.status == 200)
            #expect(reply.json["model"] as? String == "llama")
            #expect(tgi.requests.first?.path == "/v1/chat/completions")
        }
    }

    @Test func validationErrorBecomesA400WithTGIsMessage() async throws {
        let tgi = FakeUpstream(
            .respond(
                status: .unprocessableContent,
                body:
                    #"{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. Given: 2000 `inputs` tokens and 100 `max_new_tokens`","error_type":"validation"}"#
            )
        )
        let backup = FakeUpstream()
        try await withGateway(upstreams: [tgi, backup], yaml: Self.yaml) { gateway in
            let reply = try await gateway.chat("llama")
            #expect(reply.status == 400)
            #expect(reply.error["type"] as? String == "invalid_request_error")
            #expect(reply.error["code"] as? String == "hf_validation")
            #expect((reply.error["message"] as? String)?.contains("must be <= 2048") == true)
            #expect(backup.requests.isEmpty, "a validation error is the client's, not a reason to fail over")
        }
    }

    @Test func aLoadingModelFailsOverAndSaysWhy() async throws {
        let tgi = FakeUpstream(
            .respond(status: .serviceUnavailable, body: #"{"error":"Model is currently loading","estimated_time":19.4}"#)
        )
        let backup = FakeUpstream()
        try await withGateway(upstreams: [tgi, backup], yaml: Self.yaml) { gateway in
            let routed = try await gateway.chat("auto")
            #expect(routed.status == 200)
            #expect(routed.json["model"] as? String == "other")
            let direct = try await gateway.chat("llama")
            #expect(direct.status == 503)
            #expect((direct.error["message"] as? String)?.contains("about 20 s left") == true)
        }
    }

    @Test func errorMappingCoversEveryHuggingFaceShape() {
        func map(_ status: Int, _ body: String) -> ProviderError {
            HuggingFaceErrorMapping.map(status: HTTPResponse.Status(code: status), body: ByteBuffer(string: body), provider: "hf")
        }
        let generation = map(424, #"{"error":"Request failed during generation: CUDA OOM","error_type":"generation"}"#)
        #expect(generation.kind == .server)
        #expect(generation.upstreamError?.status.code == 502)
        #expect(generation.upstreamError?.code == "generation_failed")

        let overloaded = map(429, #"{"error":"Model is overloaded","error_type":"overloaded"}"#)
        #expect(overloaded.kind == .rateLimited)
        #expect(overloaded.upstreamError?.message == "hf: Model is overloaded")

        let teiFlat = map(422, #"{"message":"`inputs` must have less than 512 tokens","code":422,"type":"validation"}"#)
        #expect(teiFlat.kind == .client)
        #expect(teiFlat.upstreamError?.message == "hf: `inputs` must have less than 512 tokens")

        let routerEnvelope = map(
            400,
            #"{"error":{"message":"The requested model 'x' is not supported by any provider you have enabled.","type":"invalid_request_error"}}"#
        )
        #expect(routerEnvelope.upstreamError?.status.code == 400)
        #expect(routerEnvelope.upstreamError?.message.contains("not supported by any provider") == true)

        let plainText = map(500, "upstream exploded")
        #expect(plainText.kind == .server)

        let unauthorized = map(401, "")
        #expect(unauthorized.kind == .authentication)
        #expect(unauthorized.upstreamError?.code == "upstream_authentication_failed")
    }

    @Test func embeddingsAnswersOfEveryShapeAreRead() {
        #expect(HuggingFaceProvider.vectors(in: ByteBuffer(string: "[[1,2],[3,4.5]]")) == [[1, 2], [3, 4.5]])
        #expect(HuggingFaceProvider.vectors(in: ByteBuffer(string: "[0.5,0.25]")) == [[0.5, 0.25]])
        #expect(HuggingFaceProvider.vectors(in: ByteBuffer(string: #"{"error":"x"}"#)) == nil)
        #expect(HuggingFaceProvider.vectors(in: ByteBuffer(string: #"[["a"]]"#)) == nil)
    }
}

/// TGI's dialect of the Messages API, made OpenAI's both ways.
@Suite struct HuggingFaceMessagesAPITests {
    @Test func requestsGetTGIsTokenLimitAndGrammar() throws {
        let body = ByteBuffer(
            string:
                #"{"model":"tgi","messages":[],"max_completion_tokens":64,"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"a":{"type":"string"}}},"strict":true}}}"#
        )
        let rewritten = try #require(HuggingFaceRequestTranslator.tgiRequest(from: body))
        #expect(
            String(buffer: rewritten)
                == #"{"model":"tgi","messages":[],"response_format":{"type":"json","value":{"type":"object","properties":{"a":{"type":"string"}}}},"max_tokens":64}"#
        )
        #expect(HuggingFaceRequestTranslator.tgiRequest(from: ByteBuffer(string: #"{"model":"tgi","messages":[],"max_tokens":5}"#)) == nil)
    }

    @Test func answersGetAnIdOpenAIFinishReasonsAndNullContentOnToolCalls() throws {
        let answer = HuggingFaceResponseTranslator.completion(
            from: ByteBuffer(
                string:
                    #"{"object":"chat.completion","id":"","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"0","type":"function","function":{"description":null,"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},"logprobs":null,"finish_reason":"eos_token"}]}"#
            )
        )
        let json = try JSONValue.parse(answer)
        #expect(json["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
        #expect(json["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
        #expect(json["choices"]?.arrayValue?.first?["message"]?["content"] == .null)
        let stopped = HuggingFaceResponseTranslator.completion(
            from: ByteBuffer(
                string: #"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop_sequence"}]}"#
            )
        )
        #expect(try JSONValue.parse(stopped)["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
    }

    @Test func streamedChunksAreMadeOpenAIs() throws {
        var translator = HuggingFaceStreamTranslator()
        func feed(_ data: String) throws -> [ChatStreamEvent] { try translator.translate(SSEEvent(data: Array(data.utf8))) }
        let first = try feed(
            #"{"object":"chat.completion.chunk","id":"","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"0","type":"function","function":{"name":"f","arguments":"{"}}]},"logprobs":null,"finish_reason":null}],"usage":null}"#
        )
        let last = try feed(
            #"{"object":"chat.completion.chunk","id":"","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"function":{"arguments":"}"}}]},"logprobs":null,"finish_reason":"eos_token"}],"usage":null}"#
        )
        guard case .chunk(let firstChunk) = first.first, case .chunk(let lastChunk) = last.first else {
            Issue.record("expected chunks")
            return
        }
        let firstJSON = try JSONValue.parse(firstChunk)
        let lastJSON = try JSONValue.parse(lastChunk)
        #expect(firstJSON["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
        #expect(firstJSON["id"] == lastJSON["id"], "one id for the whole stream")
        #expect(lastJSON["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
        #expect(try feed("[DONE]") == [.done])
    }

    @Test func tgiStreamsEndInOpenAIsTermsThroughTheGateway() async throws {
        let tgi = FakeUpstream(
            .chunked(
                contentType: "text/event-stream",
                chunks: [
                    #"data:{"object":"chat.completion.chunk","id":"","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Deep"},"logprobs":null,"finish_reason":null}],"usage":null}"#
                        + "\n\n",
                    #"data:{"object":"chat.completion.chunk","id":"","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":" learning"},"logprobs":null,"finish_reason":"stop_sequence"}],"usage":null}"#
                        + "\n\n",
                    "data:[DONE]\n\n",
                ]
            )
        )
        try await withGateway(upstreams: [tgi, FakeUpstream()], yaml: HuggingFaceTests.yaml) { gateway in
            let reply = try await gateway.send(
                body: #"{"model":"llama","messages":[{"role":"user","content":"hi"}],"stream":true,"max_completion_tokens":9}"#
            )
            #expect(reply.status == 200)
            #expect(reply.events.last == "[DONE]")
            #expect(reply.body.contains(#""finish_reason":"stop""#))
            #expect(!reply.body.contains("stop_sequence"))
            #expect(!reply.body.contains(#""id":"""#))
            let sent = try #require(tgi.requests.first).bodyString
            #expect(sent.contains(#""max_tokens":9"#) && !sent.contains("max_completion_tokens"))
        }
    }
}
