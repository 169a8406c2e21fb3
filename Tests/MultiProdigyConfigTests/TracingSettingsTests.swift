import Testing

@testable import MultiProdigyConfig

/// `tracing:` off by default; `enabled`, `endpoint`, `sample_ratio` and `service_name` read and
/// checked, each mistake named by its path.
@Suite struct TracingSettingsTests {
    private func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> GatewayConfig {
        try ConfigLoader(environment: environment, providerTypes: ProviderCatalog([:])).load(yaml: yaml, source: "test.yaml")
    }

    private func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try load(yaml)
            return []
        } catch {
            return error.issues
        }
    }

    @Test func tracingIsOffByDefaultWithTheDocumentedDefaults() throws {
        let config = try load("privacy: {detect_pii: true}")
        #expect(config.tracing == TracingSettings())
        #expect(!config.tracing.enabled)
        #expect(config.tracing.endpoint == "http://127.0.0.1:4318/v1/traces")
        #expect(config.tracing.sampleRatio == 1)
        #expect(config.tracing.serviceName == "multiprodigy")
    }

    @Test func everyKeyIsRead() throws {
        let config = try load(
            """
            tracing:
              enabled: true
              endpoint: ${COLLECTOR:-http://collector:4318}/v1/traces
              sample_ratio: 0.25
              service_name: gateway-eu
            """
        )
        #expect(
            config.tracing
                == TracingSettings(enabled: true, endpoint: "http://collector:4318/v1/traces", sampleRatio: 0.25, serviceName: "gateway-eu")
        )
    }

    @Test func theRatioBoundsAreAccepted() throws {
        #expect(try load("tracing: {sample_ratio: 0}").tracing.sampleRatio == 0)
        #expect(try load("tracing: {sample_ratio: 1}").tracing.sampleRatio == 1)
    }

    @Test func aRatioOutsideZeroToOneIsAnErrorAtItsPath() {
        for ratio in ["1.5", "-0.1", "half", ".nan"] {
            let found = issues("tracing: {sample_ratio: \(ratio)}")
            #expect(found.map(\.path) == ["tracing.sample_ratio"], "\(ratio)")
            #expect(found.first?.problem.contains("is not a ratio from 0 to 1") == true)
        }
    }

    @Test func anEndpointThatIsNotAnHTTPURLIsAnError() {
        for endpoint in ["127.0.0.1:4318", "grpc://collector:4317", "http://", "ftp://x/v1/traces"] {
            let found = issues("tracing: {enabled: true, endpoint: \"\(endpoint)\"}")
            #expect(found.map(\.path) == ["tracing.endpoint"], "\(endpoint)")
        }
        #expect(issues("tracing: {endpoint: https://otlp.example.com/v1/traces}").isEmpty)
    }

    @Test func anEmptyServiceNameAndAWrongEnabledAreErrors() {
        #expect(issues("tracing: {service_name: \"  \"}").map(\.path) == ["tracing.service_name"])
        #expect(issues("tracing: {enabled: maybe}").map(\.path) == ["tracing.enabled"])
    }

    @Test func anUnknownKeyGetsADidYouMeanHint() throws {
        let found = issues("tracing: {sampling_ratio: 0.5}")
        #expect(found.map(\.path) == ["tracing.sampling_ratio"])
        #expect(found.first?.fix.contains("did you mean 'sample_ratio'?") == true)
    }

    @Test func theSummarySaysWhetherTracingIsOn() throws {
        #expect(ConfigSummary(config: try load("tracing: {enabled: false}"), source: "t").text.contains("Tracing: off"))
        let on = ConfigSummary(config: try load("tracing: {enabled: true, sample_ratio: 0.5}"), source: "t").text
        #expect(on.contains("Tracing: OTLP/HTTP to http://127.0.0.1:4318/v1/traces, sample ratio 0.5"))
    }
}
