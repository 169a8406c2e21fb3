import Foundation
import TestFixtures
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyProviders

@Suite struct ConfigLoaderTests {
    static let repositoryRoot = Fixtures.repositoryRoot

    private func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> GatewayConfig {
        try ConfigLoader(environment: environment).load(yaml: yaml, source: "test.yaml")
    }

    private func issues(_ yaml: String, environment: [String: String] = [:]) -> [ConfigIssue] {
        do {
            _ = try load(yaml, environment: environment)
            return []
        } catch {
            return error.issues
        }
    }

    @Test func defaultConfigLoadsWithCloudProvidersDisabledWhenKeysAreUnset() throws {
        let path = Self.repositoryRoot.appendingPathComponent("config/gateway.yaml").path
        let config = try ConfigLoader(environment: [:]).load(contentsOf: path)
        #expect(config.server.listen == ListenAddress(host: "127.0.0.1", port: 4100))
        #expect(config.server.maxRequestBytes == 8 << 20)
        #expect(config.auth.masterKey == nil)
        let openai = try #require(config.provider(named: "openai"))
        #expect(!openai.isEnabled)
        #expect(openai.disabledReason?.contains("OPENAI_API_KEY is not set") == true)
        #expect(config.provider(named: "ollama")?.isEnabled == true)
        #expect(config.route(named: "auto")?.fallback == ["llama3.2"])
    }

    @Test func defaultConfigEnablesProvidersWhoseKeysAreSet() throws {
        let path = Self.repositoryRoot.appendingPathComponent("config/gateway.yaml").path
        let config = try ConfigLoader(environment: ["OPENAI_API_KEY": "sk-x", "MULTIPRODIGY_MASTER_KEY": "m"]).load(contentsOf: path)
        #expect(config.provider(named: "openai")?.apiKey == "sk-x")
        #expect(config.auth.masterKey == "m")
    }

    @Test func everySectionIsRead() throws {
        let config = try load(
            """
            server: {listen: "[::1]:9000", max_request_bytes: 512KiB, log_format: json}
            providers:
              p: {type: openai, base_url: "http://10.0.0.1:8000/v1/", api_key: "${KEY:-fallback}", locality: local, headers: {X-A: b}}
            models:
              m: {provider: p, model: up-m, context: 8192, price: {input: 1.5, output: 2, cached_input: 0.5}, supports: [tools, json]}
            routes:
              r: {policy: ordered, targets: [m, p/other], fallback: [m], resilience: {timeouts: {first_token: 2s}, splice: true}}
              s: {targets: [m]}
            privacy: {detect_pii: false}
            resilience:
              timeouts: {connect: 250ms, first_byte: 1m, total: 1h}
              retry: {max_attempts_per_target: 3, max_retry_after: 2s}
              breaker: {failure_threshold: 5, cooldown: 30s}
              health_check: {interval: 5s}
              splice: false
            """
        )
        #expect(config.server.listen == ListenAddress(host: "::1", port: 9000))
        #expect(config.server.maxRequestBytes == 512 * 1024)
        #expect(config.server.logFormat == .json)
        #expect(ServerSettings().logFormat == .text)
        let format = issues("server: {log_format: jsn}\n")
        #expect(format.first { $0.path == "server.log_format" }?.problem.contains("did you mean 'json'") == true)
        let provider = try #require(config.provider(named: "p"))
        #expect(provider.apiKey == "fallback")
        #expect(provider.locality == .local)
        #expect(provider.headers == ["X-A": "b"])
        let model = try #require(config.model(named: "m"))
        #expect(model.upstreamModel == "up-m")
        #expect(model.contextWindow == 8192)
        #expect(model.price == ModelPrice(input: 1.5, output: 2, cachedInput: 0.5))
        #expect(model.capabilities == [.tools, .json])
        let route = try #require(config.route(named: "r"))
        #expect(route.targets == ["m", "p/other"])
        #expect(route.timeouts?.firstToken == .seconds(2))
        #expect(route.timeouts?.stall == .seconds(30), "unset route timeouts keep their defaults")
        #expect(!config.privacy.detectPII)
        #expect(config.resilience.timeouts.connect == .milliseconds(250))
        #expect(config.resilience.timeouts.firstByte == .seconds(60))
        #expect(config.resilience.timeouts.total == .seconds(3600))
        #expect(config.resilience.retry == RetrySettings(maxAttemptsPerTarget: 3, maxRetryAfter: .seconds(2)))
        #expect(config.resilience.breaker == BreakerSettings(failureThreshold: 5, cooldown: .seconds(30)))
        #expect(config.resilience.healthCheckInterval == .seconds(5))
        #expect(!config.resilience.splice)
        #expect(route.splice == true, "a route's own switch")
        #expect(config.route(named: "s")?.splice == nil, "a route without one follows resilience.splice")
        #expect(ResilienceSettings().splice, "on by default")
    }

    @Test func unknownKeyNamesPathLineAndSuggestion() {
        let found = issues(
            """
            providers:
              p:
                type: openai
                base_ulr: http://127.0.0.1:1/v1
            """
        )
        #expect(found.count == 1)
        #expect(found.first?.path == "providers.p.base_ulr")
        #expect(found.first?.line == 4)
        #expect(found.first?.fix.contains("did you mean 'base_url'?") == true)
    }

    @Test func unknownRouteTargetNamesItsIndexAndLine() {
        let found = issues(
            """
            providers:
              p: {type: openai, base_url: "http://127.0.0.1:1/v1"}
            models:
              gpt-4o: {provider: p}
              llama: {provider: p}
            routes:
              auto:
                policy: ordered
                targets: [gpt-4o, llama, gpt4o]
            """
        )
        let issue = found.first
        #expect(found.count == 1)
        #expect(issue?.path == "routes.auto.targets[2]")
        #expect(issue?.line == 9)
        #expect(issue?.problem.contains("did you mean 'gpt-4o'?") == true)
        #expect(issue?.description.hasPrefix("line 9: routes.auto.targets[2]:") == true)
    }

    @Test func everyProblemIsReportedNotJustTheFirst() {
        let found = issues(
            """
            server: {listen: nowhere, max_request_bytes: lots}
            providers:
              p: {type: openai, base_url: "http://127.0.0.1:1/v1", locality: orbit}
            models:
              m: {provider: q, context: -5}
            resilience:
              timeouts: {stall: 30}
            """
        )
        #expect(
            Set(found.map(\.path)) == [
                "server.listen", "server.max_request_bytes", "providers.p.locality", "models.m.context", "resilience.timeouts.stall",
                "models.m.provider",
            ]
        )
        #expect(found.allSatisfy { $0.line != nil && !$0.fix.isEmpty })
    }

    @Test func unsetSecretDisablesTheProviderButAnUnsetURLIsAnError() throws {
        let config = try load("providers:\n  p: {type: openai, api_key: \"${SECRET}\"}\n")
        #expect(config.provider(named: "p")?.isEnabled == false)
        #expect(config.provider(named: "p")?.disabledReason == "SECRET is not set (needed by providers.p.api_key)")
        let found = issues("providers:\n  p: {type: openai, base_url: \"${BASE}\"}\n")
        #expect(found.first?.path == "providers.p.base_url")
        #expect(found.first?.problem == "the environment variable BASE is not set")
    }

    @Test func environmentInterpolation() throws {
        let interpolation = EnvironmentInterpolation(environment: ["A": "x", "EMPTY": ""])
        #expect(try interpolation.expand("${A}-${B:-dflt}-${EMPTY:-e}").value == "x-dflt-e")
        #expect(try interpolation.expand("$${A} costs $5").value == "${A} costs $5")
        #expect(try interpolation.expand("${MISSING}").unsetVariables == ["MISSING"])
        #expect(throws: InterpolationError.self) { try interpolation.expand("${A") }
        #expect(throws: InterpolationError.self) { try interpolation.expand("${A B}") }
    }

    @Test func unknownPolicyAndUnknownTypeAreExplained() {
        let found = issues(
            """
            providers:
              p: {type: opneai, base_url: "http://127.0.0.1:1/v1"}
            models:
              m: {provider: p}
            routes:
              r: {policy: balanced, targets: [m]}
              s: {policy: cheapest, targets: [m]}
            """
        )
        #expect(found.contains { $0.path == "providers.p.type" && $0.problem.contains("did you mean 'openai'?") })
        #expect(!found.contains { $0.path == "routes.r.policy" })
        #expect(found.contains { $0.path == "routes.s.policy" && $0.fix.contains("ordered") })
    }

    @Test func routingKeysAreReadAndChecked() throws {
        let config = try ConfigLoader(environment: [:]).load(
            yaml: """
                providers:
                  p: {type: openai, base_url: "http://127.0.0.1:1/v1"}
                models:
                  m: {provider: p, latency: 750ms, weight: 3, output_factor: 2.5, non_streaming: direct}
                  plain: {provider: p}
                routes:
                  r: {policy: balanced, weights: {cost: 0.7, latency: 0.3}, targets: [m]}
                """
        )
        #expect(config.models[0].latencyPrior == .milliseconds(750))
        #expect(config.models[0].weight == 3)
        #expect(config.models[0].outputFactor == 2.5)
        #expect(config.models.first { $0.name == "plain" }?.outputFactor == 1)
        #expect(config.models[0].nonStreaming == .direct)
        #expect(config.models.first { $0.name == "plain" }?.nonStreaming == .assembled)
        #expect(config.routes[0].policy == .balanced)
        #expect(config.routes[0].weights == BalancedWeights(cost: 0.7, latency: 0.3))
        let found = issues(
            """
            providers:
              p: {type: openai, base_url: "http://127.0.0.1:1/v1"}
            models:
              m: {provider: p, weight: 0}
              n: {provider: p, output_factor: 1000}
              o: {provider: p, output_factor: -1}
              q: {provider: p, non_streaming: directly}
            routes:
              r: {policy: balanced, weights: {cost: 0, latency: 0}, targets: [m]}
            """
        )
        #expect(found.contains { $0.path == "models.m.weight" && $0.problem.contains("positive") })
        #expect(
            found.contains { $0.path == "models.n.output_factor" && $0.problem.contains("out of range") && $0.fix.contains("0.01 and 100") }
        )
        #expect(found.contains { $0.path == "models.o.output_factor" && $0.problem.contains("positive") })
        let nonStreaming = found.first { $0.path == "models.q.non_streaming" }
        #expect(nonStreaming?.problem.contains("did you mean 'direct'") == true)
        #expect(nonStreaming?.fix.contains("assembled") == true)
        #expect(found.contains { $0.path == "routes.r.weights" && $0.problem.contains("zero") })
    }

    @Test func routeNamedLikeAModelIsAmbiguous() {
        let found = issues(
            "providers:\n  p: {type: openai, base_url: \"http://127.0.0.1:1/v1\"}\nmodels:\n  m: {provider: p}\nroutes:\n  m: {targets: [m]}\n"
        )
        #expect(found.first?.path == "routes.m")
    }

    @Test func yamlSyntaxErrorHasALine() {
        let found = issues("providers:\n  p: {type: openai\n  q: 1\n")
        #expect(found.count == 1)
        #expect(found.first?.line != nil)
        #expect(found.first?.problem.hasPrefix("invalid YAML") == true)
    }

    @Test func loopbackProvidersDefaultToLocalAndOthersToCloud() throws {
        let config = try load("providers:\n  a: {type: openai, base_url: \"http://localhost:8000/v1\"}\n  b: {type: openai}\n")
        #expect(config.provider(named: "a")?.locality == .local)
        #expect(config.provider(named: "b")?.locality == .cloud)
        #expect(config.provider(named: "b")?.baseURL == "https://api.openai.com/v1")
    }

    @Test func valueParsers() {
        #expect(ConfigValueParsing.duration("250ms") == .milliseconds(250))
        #expect(ConfigValueParsing.duration("1.5s") == .milliseconds(1500))
        #expect(ConfigValueParsing.duration("5m") == .seconds(300))
        #expect(ConfigValueParsing.duration("30") == nil)
        #expect(ConfigValueParsing.byteSize("8MiB") == 8 << 20)
        #expect(ConfigValueParsing.byteSize("10MB") == 10_000_000)
        #expect(ConfigValueParsing.byteSize("4096") == 4096)
        #expect(ConfigValueParsing.byteSize("-1") == nil)
        #expect(ListenAddress(parsing: "0.0.0.0:80") == ListenAddress(host: "0.0.0.0", port: 80))
        #expect(ListenAddress(parsing: "host") == nil)
        #expect(ListenAddress(parsing: ":80") == nil)
        #expect(ListenAddress(parsing: "h:70000") == nil)
    }

    @Test func providerBaseURLGetsV1OnlyWhenItHasNoPath() {
        #expect(OpenAICompatibleProvider.baseURLNormalization.apiRoot(from: "http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1")
        #expect(OpenAICompatibleProvider.baseURLNormalization.apiRoot(from: "http://127.0.0.1:8080/") == "http://127.0.0.1:8080/v1")
        #expect(OpenAICompatibleProvider.baseURLNormalization.apiRoot(from: "https://api.openai.com/v1/") == "https://api.openai.com/v1")
        #expect(
            OpenAICompatibleProvider.baseURLNormalization.apiRoot(from: "https://generativelanguage.googleapis.com/v1beta/openai")
                == "https://generativelanguage.googleapis.com/v1beta/openai"
        )
    }
}
