import Foundation
import MultiProdigyPrivacy
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyProviders

/// How the config reader checks and types `providers.<name>.options` against each type's schema.
@Suite struct ProviderOptionsConfigTests {
    /// `typed` declares one option of every kind, `bare` declares none, `free` has no schema at all
    /// (a custom type registered without one).
    static let catalog = ProviderCatalog([
        "typed": .init(
            defaultBaseURL: "http://127.0.0.1:9000",
            options: [
                ProviderOptionSpec("api_token", .string, summary: "a credential"),
                ProviderOptionSpec("max_tokens", .positiveInteger, default: "16", summary: "tokens"),
                ProviderOptionSpec("temperature", .number, summary: "sampling"),
                ProviderOptionSpec("verbose", .bool, default: "false", summary: "logging"),
                ProviderOptionSpec("warmup", .duration, summary: "wait"),
                ProviderOptionSpec("buffer", .byteSize, summary: "bytes"),
                ProviderOptionSpec("flavour", .oneOf(["small", "large"]), summary: "size"),
            ]
        ),
        "bare": .init(defaultBaseURL: "http://127.0.0.1:9000", options: []),
        "free": .init(defaultBaseURL: "http://127.0.0.1:9000"),
    ])

    private func load(_ providers: String, environment: [String: String] = [:]) throws(ConfigError) -> GatewayConfig {
        try ConfigLoader(environment: environment, providerTypes: Self.catalog).load(yaml: "providers:\n" + providers, source: "test.yaml")
    }

    private func issues(_ providers: String) -> [ConfigIssue] {
        do {
            _ = try load(providers)
            return []
        } catch {
            return error.issues
        }
    }

    @Test func optionsAreTypedByTheirKinds() throws {
        let config = try load(
            """
              p:
                type: typed
                options:
                  max_tokens: 1_024
                  temperature: "0.5"
                  verbose: yes
                  warmup: 250ms
                  buffer: 2KiB
                  flavour: large
                  api_token: ${TOKEN}
            """,
            environment: ["TOKEN": "tok-canary"]
        )
        let options = try #require(config.providers.first).options
        #expect(
            options
                == [
                    "max_tokens": .integer(1024), "temperature": .number(0.5), "verbose": .bool(true),
                    "warmup": .duration(.milliseconds(250)),
                    "buffer": .integer(2048), "flavour": .string("large"), "api_token": .string("tok-canary"),
                ]
        )
        #expect(options.integer("max_tokens") == 1024)
        #expect(options.bool("verbose") == true)
        #expect(options.duration("warmup") == .milliseconds(250))
        #expect(options.integer("verbose") == nil, "an option reads as nil in a kind it does not have")
    }

    @Test func aMisspeltOptionNamesItsPathLineAndTheOptionMeant() throws {
        let found = issues(
            """
              p:
                type: typed
                options:
                  max_tokns: 5
            """
        )
        let issue = try #require(found.first)
        #expect(found.count == 1)
        #expect(issue.path == "providers.p.options.max_tokns")
        #expect(issue.line == 5)
        #expect(issue.problem.contains("did you mean 'max_tokens'?"))
        #expect(issue.problem.contains("typed providers"))
        #expect(issue.fix.contains("api_token, buffer, flavour, max_tokens"))
    }

    @Test func aValueOfTheWrongKindNamesItsPathAndTheKindExpected() throws {
        let found = issues(
            """
              p:
                type: typed
                options: {max_tokens: lots, verbose: maybe, warmup: 10, flavour: medium, buffer: -1, temperature: warm}
            """
        )
        #expect(
            found.map(\.path).sorted()
                == ["buffer", "flavour", "max_tokens", "temperature", "verbose", "warmup"].map { "providers.p.options.\($0)" }
        )
        #expect(found.allSatisfy { $0.line == 4 })
        let byPath = Dictionary(uniqueKeysWithValues: found.map { ($0.path, $0) })
        // `max_tokens` has a credential-like name ("token"): its value is not repeated in the message.
        #expect(byPath["providers.p.options.max_tokens"]?.problem == "its value is not a positive whole number")
        #expect(byPath["providers.p.options.max_tokens"]?.fix.contains("max_tokens: 8192") == true)
        #expect(byPath["providers.p.options.verbose"]?.problem == "'maybe' is not true or false")
        #expect(byPath["providers.p.options.warmup"]?.problem == "'10' is not a duration")
        #expect(byPath["providers.p.options.flavour"]?.problem == "'medium' is not one of small, large")
        #expect(byPath["providers.p.options.buffer"]?.problem == "'-1' is not a size")
        #expect(byPath["providers.p.options.temperature"]?.problem == "'warm' is not a number")
    }

    @Test func anOptionOnATypeThatTakesNoneIsAnError() throws {
        let found = issues(
            """
              p: {type: bare, options: {stream_usage: "false"}}
            """
        )
        let issue = try #require(found.first)
        #expect(found.count == 1)
        #expect(issue.path == "providers.p.options.stream_usage")
        #expect(issue.problem == "'stream_usage' is not an option: bare providers take no options")
    }

    @Test func aTypeWithoutASchemaAcceptsAnyOptionsAsText() throws {
        let config = try load(
            """
              p: {type: free, options: {flavour: small, retries: 3, anything_at_all: "yes"}}
            """
        )
        #expect(config.providers.first?.options == ["flavour": "small", "retries": "3", "anything_at_all": "yes"])
        #expect(config.providers.first?.options.string("retries") == "3")
    }

    @Test func everyOptionProblemIsReportedWithTheOtherIssues() {
        let found = issues(
            """
              a: {type: typed, options: {max_tokens: 0, verbos: true}}
              b: {type: bare, options: {x: 1}}
              c: {type: free, base_url: ftp://nowhere}
            """
        )
        #expect(
            found.map(\.path).sorted() == [
                "providers.a.options.max_tokens", "providers.a.options.verbos", "providers.b.options.x", "providers.c.base_url",
            ]
        )
    }

    @Test func credentialNamedOptionsAreSecretsWhateverTheSchema() throws {
        let config = try load(
            """
              typed: {type: typed, options: {api_token: typed-canary, max_tokens: 9}}
              free: {type: free, options: {client_secret: free-canary, region: eu}}
            """
        )
        let secrets = Set(SecretScrubber.secrets(in: config))
        #expect(secrets.contains("typed-canary"))
        #expect(secrets.contains("free-canary"))
        #expect(!secrets.contains("eu"))
        #expect(!secrets.contains("9"), "a count is not a secret, though `max_tokens` has a credential-like name")
    }

    // MARK: Built-in types

    @Test func builtInTypesCheckTheirOptionsWhenTheConfigIsRead() {
        let yaml = """
            providers:
              claude: {type: anthropic, api_key: k, options: {default_max_tokens: lots}}
              local: {type: ollama, options: {numctx: 8192}}
              hf: {type: huggingface, options: {stream_usage: "false"}}
              oai: {type: openai, api_key: k, options: {stream_usage: "nope"}}
              gem: {type: gemini, api_key: k, options: {allow_remote_images: "true", max_remote_image_bytes: 20MiB}}
            """
        do {
            _ = try ConfigLoader(environment: [:]).load(yaml: yaml, source: "test.yaml")
            Issue.record("the configuration loaded")
        } catch {
            #expect(
                error.issues.map(\.path).sorted() == [
                    "providers.claude.options.default_max_tokens", "providers.hf.options.stream_usage",
                    "providers.local.options.numctx", "providers.oai.options.stream_usage",
                ]
            )
            #expect(error.issues.allSatisfy { $0.line != nil })
            #expect(error.issues.contains { $0.problem.contains("did you mean 'num_ctx'?") })
        }
    }

    @Test func responsesAPIIsNativeOrTranslateAndAMisspellingSaysWhich() throws {
        let config = try ConfigLoader(environment: [:]).load(
            yaml: """
                providers:
                  a: {type: openai, api_key: k, options: {responses_api: translate}}
                  b: {type: openai, api_key: k, options: {responses_api: " native "}}
                """,
            source: "test.yaml"
        )
        let byName = Dictionary(uniqueKeysWithValues: config.providers.map { ($0.name, $0.options) })
        #expect(byName["a"]?.string("responses_api") == "translate")
        #expect(byName["b"]?.string("responses_api") == "native")
        let yaml = """
            providers:
              oai: {type: openai, api_key: k, options: {responses_api: transalte}}
              hf: {type: huggingface, options: {responses_api: native}}
            """
        do {
            _ = try ConfigLoader(environment: [:]).load(yaml: yaml, source: "test.yaml")
            Issue.record("the configuration loaded")
        } catch {
            let byPath = Dictionary(uniqueKeysWithValues: error.issues.map { ($0.path, $0) })
            #expect(byPath.keys.sorted() == ["providers.hf.options.responses_api", "providers.oai.options.responses_api"])
            let issue = try #require(byPath["providers.oai.options.responses_api"])
            #expect(issue.line == 2)
            #expect(issue.problem == "'transalte' is not one of native, translate")
            #expect(issue.fix == "write one of: native, translate")
            #expect(
                byPath["providers.hf.options.responses_api"]?.problem
                    == "'responses_api' is not an option: huggingface providers take no options"
            )
        }
    }

    @Test func aConfigurationBuiltInCodeIsTypedByTheSameSchema() throws {
        let written: ProviderOptions = ["default_max_tokens": "12", "anthropic_version": "2024-10-22"]
        let typed = try AnthropicProvider.optionSchema.validate(written, provider: "claude", type: "anthropic")
        #expect(typed == ["default_max_tokens": .integer(12), "anthropic_version": "2024-10-22"])
        #expect(try AnthropicProvider.optionSchema.validate(typed, provider: "claude", type: "anthropic") == typed, "typing is idempotent")
        #expect {
            try AnthropicProvider.optionSchema.validate(
                ["default_max_token": "12", "anthropic_version": " "],
                provider: "claude",
                type: "anthropic"
            )
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.issues.map(\.path) == ["providers.claude.options.anthropic_version", "providers.claude.options.default_max_token"]
                && error.issues[1].problem.contains("did you mean 'default_max_tokens'?")
        }
    }
}
