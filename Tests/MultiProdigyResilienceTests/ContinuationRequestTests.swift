import NIOCore
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyCore
@testable import MultiProdigyProviders
@testable import MultiProdigyResilience
@testable import MultiProdigyRouting

/// ``ContinuationRequest`` and ``ContinuationStyle``: the prefilled request, and who gets which.
@Suite struct ContinuationRequestTests {
    static func chat(_ body: String) throws -> ChatCompletionRequest {
        try ChatCompletionRequest.parse(ByteBuffer(string: body))
    }

    @Test func prefillIsAppendedAsAnAssistantMessage() throws {
        let chat = try Self.chat(
            #"{"model":"r","messages":[{"role":"user","content":"hi"}],"stream":true,"temperature":0.70,"multiprodigy":{"privacy":"local"}}"#
        )
        let body = try #require(ContinuationRequest.body(continuing: chat, partialAnswer: "Hello \"wor", style: .prefill))
        #expect(
            String(buffer: body)
                == #"{"model":"r","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"Hello \"wor"}],"stream":true,"temperature":0.70,"multiprodigy":{"privacy":"local"}}"#
        )
    }

    @Test func continueFinalMessageAddsTheVLLMFieldsAndForcesStreaming() throws {
        let chat = try Self.chat(#"{"model":"r","messages":[{"role":"user","content":"hi"}],"stream":true}"#)
        let request = try ContinuationRequest.make(continuing: chat, partialAnswer: "Hel", style: .continueFinalMessage)
        #expect(request.isStreaming)
        #expect(request.messageCount == 2)
        #expect(
            String(buffer: request.upstreamBody(model: "up"))
                == #"{"model":"up","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"Hel"}],"stream":true,"continue_final_message":true,"add_generation_prompt":false,"stream_options":{"include_usage":true}}"#
        )
    }

    @Test func clientsOwnPrefillIsExtended() throws {
        let chat = try Self.chat(
            #"{"model":"r","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"The answer is"}],"stream":true}"#
        )
        let body = try #require(ContinuationRequest.body(continuing: chat, partialAnswer: " forty", style: .prefill))
        #expect(
            String(buffer: body)
                == #"{"model":"r","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"The answer is forty"}],"stream":true}"#
        )
    }

    @Test func stylesFollowTheProviderTypeAndTheDeclaration() {
        #expect(ContinuationStyle(providerType: "anthropic", declared: false) == .prefill)
        #expect(ContinuationStyle(providerType: "anthropic", declared: true) == .prefill)
        #expect(ContinuationStyle(providerType: "openai", declared: true) == .continueFinalMessage)
        #expect(ContinuationStyle(providerType: "huggingface", declared: true) == .continueFinalMessage)
        #expect(ContinuationStyle(providerType: "openai", declared: false) == nil)
        #expect(ContinuationStyle(providerType: "huggingface", declared: false) == nil)
        #expect(ContinuationStyle(providerType: "ollama", declared: true) == .prefill)
        #expect(ContinuationStyle(providerType: "gemini", declared: false) == nil)
    }

    @Test func resolverKnowsWhichTargetsContinue() throws {
        let config = try ConfigLoader(environment: [:]).load(
            yaml: """
                providers:
                  vllm: {type: openai, base_url: "http://127.0.0.1:1/v1", locality: local}
                  claude: {type: anthropic, base_url: "http://127.0.0.1:2", api_key: k}
                models:
                  declared: {provider: vllm, model: m, supports: [continuation]}
                  plain: {provider: vllm, model: m}
                  sonnet: {provider: claude, model: s}
                """,
            source: "test"
        )
        let resolver = ModelResolver(config: config)
        #expect(
            resolver.continuationStyle(of: RouteTarget(name: "declared", providerName: "vllm", upstreamModel: "m")) == .continueFinalMessage
        )
        #expect(resolver.continuationStyle(of: RouteTarget(name: "plain", providerName: "vllm", upstreamModel: "m")) == nil)
        #expect(resolver.continuationStyle(of: RouteTarget(name: "sonnet", providerName: "claude", upstreamModel: "s")) == .prefill)
        #expect(resolver.continuationStyle(of: RouteTarget(name: "claude/x", providerName: "claude", upstreamModel: "x")) == .prefill)
        #expect(resolver.continuationStyle(of: RouteTarget(name: "vllm/x", providerName: "vllm", upstreamModel: "x")) == nil)
        // Declaring only `continuation` must not make the model refuse requests using tools.
        #expect(resolver.definition(for: "declared")?.profiles.first?.capabilities == nil)
    }

    @Test func eachRouteSplicesAsItsOwnSwitchOrTheGlobalOneSays() throws {
        let config = try ConfigLoader(environment: [:]).load(
            yaml: """
                providers:
                  vllm: {type: openai, base_url: "http://127.0.0.1:1/v1", locality: local}
                models:
                  m: {provider: vllm}
                routes:
                  on: {targets: [m], resilience: {splice: true}}
                  plain: {targets: [m]}
                  off: {targets: [m], resilience: {splice: false, timeouts: {stall: 5s}}}
                resilience: {splice: false}
                """,
            source: "test"
        )
        let resolver = ModelResolver(config: config)
        #expect(resolver.definition(for: "on")?.splicesContinuations == true)
        #expect(resolver.definition(for: "off")?.splicesContinuations == false)
        #expect(resolver.definition(for: "off")?.timeouts.stall == .seconds(5))
        #expect(resolver.definition(for: "plain")?.splicesContinuations == false)
        #expect(resolver.definition(for: "m")?.splicesContinuations == false)
        #expect(resolver.definition(for: "vllm/x")?.splicesContinuations == false)
        let defaults = ModelResolver(
            config: try ConfigLoader(environment: [:]).load(
                yaml: "providers:\n  vllm: {type: openai, base_url: \"http://127.0.0.1:1/v1\"}\n",
                source: "test"
            )
        )
        #expect(defaults.definition(for: "vllm/x")?.splicesContinuations == true)
    }
}
