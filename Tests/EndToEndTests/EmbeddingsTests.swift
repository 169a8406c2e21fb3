import Foundation
import NIOCore
import Testing

@testable import MultiProdigyProviders
@testable import MultiProdigyCore

/// `POST /v1/embeddings` through OpenAI-compatible and Hugging Face (TEI) upstreams.
@Suite struct EmbeddingsTests {
    static let openAIEmbeddings = #"""
        {"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}
        """#

    static let yaml = """
        providers:
          oai: {type: openai, base_url: "http://127.0.0.1:{PORT0}/v1", api_key: sk-test, locality: cloud}
          tei: {type: huggingface, base_url: "http://127.0.0.1:{PORT1}", locality: local}
          chatonly: {type: chatonly-test, base_url: "http://127.0.0.1:{PORT1}", locality: local}
        models:
          small-embed: {provider: oai, model: text-embedding-3-small}
          local-embed: {provider: tei, model: BAAI/bge-small-en-v1.5}
          no-embed: {provider: chatonly, model: x}
        routes:
          embed: {policy: ordered, targets: [small-embed], fallback: [local-embed]}
        """

    init() {
        ProviderRegistry.register("chatonly-test") { config, context in
            OpenAIChatOnlyProvider(inner: OpenAICompatibleProvider(config: config, context: context))
        }
    }

    @Test func openAIUpstreamGetsTheBodyAsSentAndTheAnswerNamesTheDeclaredModel() async throws {
        let oai = FakeUpstream(.respond(status: .ok, body: Self.openAIEmbeddings))
        let tei = FakeUpstream()
        try await withGateway(upstreams: [oai, tei], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(
                .POST,
                "/v1/embeddings",
                body: #"{"model":"small-embed","input":"The food was delicious","encoding_format":"float","dimensions":2,"user":"u-1"}"#
            )
            #expect(reply.status == 200)
            #expect(reply.json["model"] as? String == "small-embed")
            #expect(reply.headers.first(name: "x-multiprodigy-provider") == "oai")
            let received = try #require(oai.requests.first)
            #expect(received.path == "/v1/embeddings")
            #expect(received.bodyString.contains(#""model":"text-embedding-3-small""#))
            #expect(received.bodyString.contains(#""dimensions":2"#))
            #expect(received.bodyString.contains(#""user":"u-1""#))
            #expect(received.headers[.authorization] == "Bearer sk-test")
        }
    }

    @Test func teiVectorsAreRenderedInOpenAIShapeAsFloatsOrBase64() async throws {
        let oai = FakeUpstream()
        let tei = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: "[[0.5,-1.0,0.25],[1,2,3]]"))
        try await withGateway(upstreams: [oai, tei], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.POST, "/v1/embeddings", body: #"{"model":"local-embed","input":["a","b"]}"#)
            #expect(reply.status == 200)
            let data = try #require(reply.json["data"] as? [[String: Any]])
            #expect(data.count == 2)
            #expect(data[0]["embedding"] as? [Double] == [0.5, -1.0, 0.25])
            #expect(data[1]["index"] as? Int == 1)
            #expect(reply.json["object"] as? String == "list")
            #expect(reply.json["model"] as? String == "local-embed")
            let received = try #require(tei.requests.first)
            #expect(received.path == "/embed")
            #expect(received.bodyString == #"{"inputs":["a","b"]}"#)

            let encoded = try await gateway.send(
                .POST,
                "/v1/embeddings",
                body: #"{"model":"local-embed","input":["a","b"],"encoding_format":"base64"}"#
            )
            let first = try #require((encoded.json["data"] as? [[String: Any]])?.first?["embedding"] as? String)
            let bytes = try #require(Data(base64Encoded: first))
            let floats = bytes.withUnsafeBytes { raw in
                (0..<3).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            #expect(floats == [0.5, -1.0, 0.25])
        }
    }

    @Test func aFailingCloudTargetFallsBackToTheLocalOne() async throws {
        let oai = FakeUpstream(.respond(status: .serviceUnavailable, body: #"{"error":{"message":"overloaded","type":"server_error"}}"#))
        let tei = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: "[[1,2]]"))
        try await withGateway(upstreams: [oai, tei], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.POST, "/v1/embeddings", body: #"{"model":"embed","input":"x"}"#)
            #expect(reply.status == 200)
            #expect(reply.json["model"] as? String == "local-embed")
            #expect(reply.headers.first(name: "x-multiprodigy-attempts") == "3")
            #expect(reply.headers.first(name: "x-multiprodigy-route") == "embed; policy=ordered; order=small-embed>local-embed")
        }
    }

    @Test(arguments: [
        (#"{"input":"x"}"#, "model"),
        (#"{"model":"small-embed"}"#, "input"),
        (#"{"model":"small-embed","input":[]}"#, "input"),
        (#"{"model":"small-embed","input":[1,"a"]}"#, "input"),
        (#"{"model":"small-embed","input":{"text":"x"}}"#, "input"),
        (#"{"model":"small-embed","input":"x","encoding_format":"int8"}"#, "encoding_format"),
        (#"{"model":"small-embed","input":"x","dimensions":0}"#, "dimensions"),
    ])
    func invalidRequestsAreRejectedWithTheParameterNamed(_ body: String, _ param: String) async throws {
        let oai = FakeUpstream(.respond(status: .ok, body: Self.openAIEmbeddings))
        try await withGateway(upstreams: [oai, FakeUpstream()], yaml: Self.yaml) { gateway in
            let reply = try await gateway.send(.POST, "/v1/embeddings", body: body)
            #expect(reply.status == 400)
            #expect(reply.error["type"] as? String == "invalid_request_error")
            #expect(reply.error["param"] as? String == param)
            #expect(oai.requests.isEmpty)
        }
    }

    @Test func unknownModelAndUnsupportedProviderGetClearErrors() async throws {
        try await withGateway(upstreams: [FakeUpstream(), FakeUpstream()], yaml: Self.yaml) { gateway in
            let unknown = try await gateway.send(.POST, "/v1/embeddings", body: #"{"model":"nope","input":"x"}"#)
            #expect(unknown.status == 404)
            #expect(unknown.error["code"] as? String == "model_not_found")
            let unsupported = try await gateway.send(.POST, "/v1/embeddings", body: #"{"model":"no-embed","input":"x"}"#)
            #expect(unsupported.status == 400)
            #expect(unsupported.error["code"] as? String == "embeddings_unsupported")
        }
    }

    @Test func vectorsRenderWithShortestFloatsAndUsage() {
        let body = EmbeddingsResponseRenderer.render([[0.1, -2]], model: "m", promptTokens: 3, format: .float)
        #expect(
            String(buffer: body)
                == #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-2.0]}],"model":"m","usage":{"prompt_tokens":3,"total_tokens":3}}"#
        )
        #expect(EmbeddingsResponseRenderer.base64([1.0]) == "AACAPw==")
    }
}

/// A provider that keeps the protocol's default `embed`, to check the unsupported answer.
private struct OpenAIChatOnlyProvider: LLMProvider {
    let inner: OpenAICompatibleProvider
    func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult { try await inner.complete(call) }
    func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream { try await inner.stream(call) }
}
