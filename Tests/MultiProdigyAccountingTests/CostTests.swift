import NIOCore
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyConfig
@testable import MultiProdigyJSON
@testable import MultiProdigyProviders
@testable import MultiProdigyRouting
@testable import MultiProdigyCore

@Suite struct CostTests {
    private static let usageJSON =
        #"{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":400},"completion_tokens_details":{"reasoning_tokens":200}}"#

    private static func usage(_ json: String) -> TokenUsage? {
        ByteBuffer(string: json).withUnsafeReadableBytes { bytes in
            TokenUsage.read(fields: (try? JSONScanner.topLevelMembers(of: bytes)) ?? [], in: bytes)
        }
    }

    @Test func usageReadsCachedAndReasoningDetails() throws {
        let usage = try #require(Self.usage(Self.usageJSON))
        #expect(usage == TokenUsage(promptTokens: 1000, completionTokens: 500, cachedPromptTokens: 400, reasoningTokens: 200))
        #expect(Self.usage(#"{"total_tokens":3}"#) == nil, "no counts, no usage")
        #expect(Self.usage(#"{"prompt_tokens":7}"#) == TokenUsage(promptTokens: 7, completionTokens: 0))
        // Details larger than their totals are clamped, so a cost can never go negative.
        let odd = try #require(Self.usage(#"{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":50}}"#))
        #expect(odd.cachedPromptTokens == 5)
    }

    @Test(arguments: [
        // input, output, cached_input, reasoning → USD for 600 fresh + 400 cached in, 300 answer + 200 reasoning out
        (ModelPrice(input: 2, output: 8), 0.0060),
        (ModelPrice(input: 2, output: 8, cachedInput: 0.5), 0.0054),
        (ModelPrice(input: 2, output: 8, cachedInput: 0.5, reasoning: 4), 0.0046),
        (ModelPrice.free, 0.0),
    ])
    func costPricesEachKindOfToken(price: ModelPrice, expected: Double) throws {
        let usage = try #require(Self.usage(Self.usageJSON))
        #expect(abs(CostModel.usd(usage, price: price) - expected) < 1e-12)
    }

    @Test func anthropicCacheWritesArePricedAtTheirOwnRate() throws {
        // 100 fresh + 300 read from the cache + 600 written to it = 1000 prompt tokens.
        let usage = try #require(
            Self.usage(
                #"{"prompt_tokens":1000,"completion_tokens":0,"prompt_tokens_details":{"cached_tokens":300,"cache_creation_tokens":600}}"#
            )
        )
        #expect(usage.cacheWriteTokens == 600)
        let price = try #require(BuiltInPrices.price(providerType: "anthropic", baseURL: "", model: "claude-sonnet-4-5"))
        #expect(price.cacheWrite == 3.75)
        // (100 × 3 + 300 × 0.30 + 600 × 3.75) / 1M
        #expect(abs(CostModel.usd(usage, price: price) - 0.00264) < 1e-12)
        // Without a cache-write price they cost as input.
        #expect(abs(CostModel.usd(usage, price: ModelPrice(input: 3, output: 15, cachedInput: 0.3)) - 0.00219) < 1e-12)
    }

    @Test func builtInPricesMatchSnapshotsByTheLongestName() throws {
        let openAI = "https://api.openai.com/v1"
        #expect(BuiltInPrices.price(providerType: "openai", baseURL: openAI, model: "gpt-4o-mini")?.input == 0.15)
        #expect(BuiltInPrices.price(providerType: "openai", baseURL: openAI, model: "gpt-4o-mini-2024-07-18")?.input == 0.15)
        #expect(BuiltInPrices.price(providerType: "openai", baseURL: openAI, model: "gpt-4o-2024-08-06")?.input == 2.5)
        #expect(BuiltInPrices.price(providerType: "openai", baseURL: openAI, model: "o3-mini")?.input == 1.1)
        #expect(BuiltInPrices.price(providerType: "openai", baseURL: openAI, model: "gpt-4ox") == nil, "no partial-word match")
        // Another suffix names another model, with its own (unknown) price.
        #expect(BuiltInPrices.price(providerType: "openai", baseURL: openAI, model: "gpt-5-pro") == nil)
        #expect(BuiltInPrices.price(providerType: "openai", baseURL: openAI, model: "o1-pro") == nil)
        #expect(BuiltInPrices.price(providerType: "openai", baseURL: openAI, model: "gpt-4o-audio-preview") == nil)
        #expect(BuiltInPrices.price(providerType: "anthropic", baseURL: "", model: "claude-opus-4-5-20251101")?.input == 5)
        #expect(BuiltInPrices.price(providerType: "anthropic", baseURL: "", model: "claude-opus-4-20250514")?.input == 15)
        #expect(BuiltInPrices.price(providerType: "gemini", baseURL: "", model: "gemini-2.5-flash-preview-05-20")?.input == 0.3)
        #expect(BuiltInPrices.price(providerType: "anthropic", baseURL: "", model: "claude-sonnet-4-20250514")?.output == 15)
        #expect(BuiltInPrices.price(providerType: "anthropic", baseURL: "", model: "claude-3-5-haiku-latest")?.input == 0.8)
        #expect(BuiltInPrices.price(providerType: "gemini", baseURL: "", model: "models/gemini-2.5-flash")?.output == 2.5)
        #expect(BuiltInPrices.price(providerType: "gemini", baseURL: "", model: "gemini-2.5-flash-lite")?.output == 0.4)
        // OpenAI's prices are OpenAI's: a compatible server elsewhere serving the same name sets its own.
        #expect(BuiltInPrices.price(providerType: "openai", baseURL: "http://127.0.0.1:8000/v1", model: "gpt-4o") == nil)
        #expect(BuiltInPrices.price(providerType: "ollama", baseURL: "", model: "llama3.2") == nil)
        #expect(!BuiltInPrices.all.isEmpty)
    }

    @Test func configuredPriceWinsOverTheBuiltInOneAndLocalModelsAreFree() throws {
        let yaml = """
            providers:
              openai: {type: openai, api_key: k}
              local: {type: openai, base_url: http://127.0.0.1:9/v1, locality: local}
            models:
              mini: {provider: openai, model: gpt-4o-mini}
              mine: {provider: openai, model: gpt-4o-mini, price: {input: 1, output: 2, reasoning: 3}}
              llama: {provider: local}
            """
        let config = try ConfigLoader(environment: [:]).load(yaml: yaml, source: "test")
        let resolver = ModelResolver(config: config)
        #expect(resolver.price(of: RouteTarget(name: "mini", providerName: "openai", upstreamModel: "gpt-4o-mini"))?.input == 0.15)
        #expect(resolver.price(of: RouteTarget(name: "mine", providerName: "openai", upstreamModel: "gpt-4o-mini"))?.reasoning == 3)
        #expect(resolver.price(of: RouteTarget(name: "llama", providerName: "local", upstreamModel: "llama")) == .free)
        #expect(resolver.price(of: RouteTarget(name: "openai/o3", providerName: "openai", upstreamModel: "o3"))?.output == 8)
        #expect(
            resolver.price(of: RouteTarget(name: "openai/unknown-model", providerName: "openai", upstreamModel: "unknown-model")) == nil
        )
    }

    @Test func pricingWritesTheCostIntoUsageAndKeepsEverythingElse() throws {
        let body = ByteBuffer(
            string:
                #"{"id":"x","model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13},"extra":1.50}"#
        )
        let priced = try #require(
            CostAnnotation.pricing(body, modelName: "declared", price: ModelPrice(input: 2, output: 8), estimatedPromptTokens: 100)
        )
        #expect(
            String(buffer: priced.body)
                == #"{"id":"x","model":"declared","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,"cost_usd":0.00005},"extra":1.50}"#
        )
        #expect(priced.usage == TokenUsage(promptTokens: 9, completionTokens: 4))
        #expect(priced.costUSD == 0.00005)
    }

    @Test func anAnswerWithoutUsageIsEstimatedButNotAnnotated() throws {
        let body = ByteBuffer(
            string:
                #"{"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"a fairly long answer of several words"}}]}"#
        )
        let priced = try #require(
            CostAnnotation.pricing(body, modelName: "m", price: ModelPrice(input: 1, output: 1), estimatedPromptTokens: 40)
        )
        #expect(priced.usage.isEstimated)
        #expect(priced.usage.promptTokens == 40)
        #expect(priced.usage.completionTokens > 5)
        #expect(!String(buffer: priced.body).contains("usage"), "the gateway does not invent a usage object")
        #expect(CostAnnotation.pricing(ByteBuffer(string: "[1]"), modelName: "m", price: nil, estimatedPromptTokens: 0) == nil)
    }

    @Test func anUnknownPriceWritesNoCost() throws {
        let body = ByteBuffer(string: #"{"model":"up","usage":{"prompt_tokens":9,"completion_tokens":4}}"#)
        let priced = try #require(CostAnnotation.pricing(body, modelName: "m", price: nil, estimatedPromptTokens: 0))
        #expect(priced.costUSD == nil)
        #expect(String(buffer: priced.body) == #"{"model":"m","usage":{"prompt_tokens":9,"completion_tokens":4}}"#)
    }

    @Test func absurdCountsAreClampedSoSumsCannotOverflow() {
        let huge = TokenUsage(promptTokens: .max, completionTokens: .max, cachedPromptTokens: .max, reasoningTokens: .max)
        #expect(huge.promptTokens == TokenUsage.maximumCount)
        let sum = huge + huge
        #expect(sum.promptTokens + sum.completionTokens > 0)
    }

    @Test func aPriceNeedsInputAndOutput() {
        let yaml = """
            providers:
              p: {type: openai, base_url: "http://127.0.0.1:9/v1"}
            models:
              m: {provider: p, price: {reasoning: 12}}
            """
        #expect(throws: ConfigError.self) { try ConfigLoader(environment: [:]).load(yaml: yaml, source: "test") }
    }

    @Test func costNumbersNeverUseExponents() {
        #expect(String(buffer: CostAnnotation.number(0.0000015)) == "0.0000015")
        #expect(String(buffer: CostAnnotation.number(12.5)) == "12.5")
        #expect(String(buffer: CostAnnotation.number(0)) == "0")
        #expect(String(buffer: CostAnnotation.number(2)) == "2")
        #expect(String(buffer: CostAnnotation.number(0.000123)) == "0.000123")
        #expect(String(buffer: CostAnnotation.number(123_456.789)) == "123456.789")
        #expect(String(buffer: CostAnnotation.number(0.000000016)) == "0.00000002", "rounded to 8 decimals")
        #expect(String(buffer: CostAnnotation.number(0.000000001)) == "0")
        #expect(String(buffer: CostAnnotation.number(10.10)) == "10.1")
    }

    @Test func theFinalUsageChunkGainsTheCost() {
        let chunk = ByteBuffer(string: #"{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2}}"#)
        #expect(
            String(buffer: CostAnnotation.addingCost(0.25, toUsageChunk: chunk))
                == #"{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"cost_usd":0.25}}"#
        )
    }

    @Test func streamsAlwaysAskForUsageUpstreamKeepingTheClientsOptions() throws {
        func upstream(_ json: String) throws -> String {
            String(buffer: try ChatCompletionRequest.parse(ByteBuffer(string: json)).upstreamBody(model: "u"))
        }
        #expect(
            try upstream(#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}"#)
                == #"{"model":"u","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}"#
        )
        #expect(
            try upstream(
                #"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_obfuscation":false}}"#
            )
                == #"{"model":"u","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true}}"#
        )
        #expect(
            try upstream(
                #"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":false}}"#
            )
                == #"{"model":"u","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}"#
        )
        // Not a stream: nothing to ask for.
        #expect(
            try upstream(#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)
                == #"{"model":"u","messages":[{"role":"user","content":"x"}]}"#
        )
    }

    @Test func chunkInspectorWithholdsUsageAndDropsNullUsageOnRequest() throws {
        let name = JSONWriter.encodedString("declared")
        let content = ByteBuffer(string: #"{"id":"c","model":"up","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}"#)
        let kept = try #require(ChatChunkInspector.inspect(content, modelName: name))
        #expect(String(buffer: kept.json).contains(#""usage":null"#), "a client that asked for usage gets the nulls")
        let stripped = try #require(ChatChunkInspector.inspect(content, modelName: name, removesNullUsage: true))
        #expect(String(buffer: stripped.json) == #"{"id":"c","model":"declared","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#)

        let usageOnly = ByteBuffer(string: #"{"id":"c","model":"up","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#)
        let usage = try #require(ChatChunkInspector.inspect(usageOnly, modelName: name))
        #expect(usage.usage == TokenUsage(promptTokens: 3, completionTokens: 1))
        #expect(usage.hasNoChoices)
        #expect(
            String(buffer: try #require(usage.usageChunk))
                == #"{"id":"c","model":"declared","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#
        )

        // Usage riding on a content chunk: the content goes on without it, the usage chunk is made apart.
        let riding = ByteBuffer(
            string:
                #"{"id":"c","model":"up","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#
        )
        let both = try #require(ChatChunkInspector.inspect(riding, modelName: name))
        #expect(!both.hasNoChoices)
        #expect(!String(buffer: both.json).contains("usage"))
        #expect(
            String(buffer: try #require(both.usageChunk))
                == #"{"id":"c","model":"declared","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#
        )
    }
}
