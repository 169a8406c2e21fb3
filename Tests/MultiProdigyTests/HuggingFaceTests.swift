import HTTPTypes
import NIOCore
import Testing

@testable import MultiProdigy

/// `type: huggingface`: TGI's Messages API with Hugging Face's error shapes.
@Suite struct HuggingFaceTests {
    static let yaml = """
        providers:
          tgi: {type: huggingface, base_url: "http://127.0.0.1:{PORT0}", locality: local}
          backup: {type: openai, base_url: "http://127.0.0.1:{PORT1}/v1", locality: local}
        models:
          llama: {provider: tgi, model: tgi}
          other: {provider: backup, model: other-upstream}
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
