import Testing

@testable import MultiProdigyConfig

/// The config reader knows provider types only from the catalogue it is given: no provider module
/// is linked into this test target, so every type, default URL and option schema here is the
/// test's own.
@Suite struct InjectedProviderTypesTests {
    private static let catalog = ProviderCatalog([
        "inhouse": .init(
            defaultBaseURL: "http://127.0.0.1:9000/v1",
            options: [
                ProviderOptionSpec("max_batch", .positiveInteger, summary: "inputs per request"),
                ProviderOptionSpec("warm_up", .bool, default: "false", summary: "send a first request at start"),
            ]
        ),
        "freeform": .init(defaultBaseURL: "http://127.0.0.1:9001"),
    ])

    private func load(_ yaml: String) throws(ConfigError) -> GatewayConfig {
        try ConfigLoader(environment: [:], providerTypes: Self.catalog).load(yaml: yaml, source: "test.yaml")
    }

    private func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try load(yaml)
            return []
        } catch {
            return error.issues
        }
    }

    @Test func aTypeTakesItsDefaultBaseURLAndTypedOptionsFromTheCatalogue() throws {
        let config = try load(
            """
            providers:
              local: {type: inhouse, locality: local, options: {max_batch: 16, warm_up: yes}}
            models:
              m: {provider: local}
            """
        )
        let provider = try #require(config.providers.first)
        #expect(provider.baseURL == "http://127.0.0.1:9000/v1")
        #expect(provider.options.integer("max_batch") == 16)
        #expect(provider.options.bool("warm_up") == true)
    }

    @Test func aTypeOutsideTheCatalogueIsRefusedWithTheClosestName() {
        let found = issues("providers:\n  local: {type: inhose, locality: local}\n")
        #expect(found.count == 1)
        #expect(found.first?.path == "providers.local.type")
        #expect(found.first?.problem.contains("did you mean 'inhouse'?") == true, "\(found)")
        // The built-in types are not known to a reader that was not given them.
        let builtIn = issues("providers:\n  o: {type: openai, base_url: \"http://127.0.0.1:8000/v1\", locality: local}\n")
        #expect(builtIn.first?.path == "providers.o.type")
    }

    @Test func aMisspeltOptionGetsItsPathLineAndAHint() {
        let found = issues(
            """
            providers:
              local:
                type: inhouse
                locality: local
                options: {max_bach: 16}
            """
        )
        #expect(found.count == 1)
        let issue = found.first
        #expect(issue?.path == "providers.local.options.max_bach")
        #expect(issue?.line == 5)
        #expect(issue?.problem.contains("did you mean 'max_batch'?") == true, "\(found)")
    }

    @Test func anOptionOfTheWrongKindSaysWhatItShouldBe() {
        let found = issues("providers:\n  local: {type: inhouse, locality: local, options: {max_batch: lots, warm_up: maybe}}\n")
        #expect(found.map(\.path).sorted() == ["providers.local.options.max_batch", "providers.local.options.warm_up"])
        #expect(found.contains { $0.problem.contains("a positive whole number") }, "\(found)")
        #expect(found.contains { $0.problem.contains("true or false") }, "\(found)")
    }

    @Test func aTypeWithoutASchemaKeepsAnyOptionAsText() throws {
        let config = try load("providers:\n  f: {type: freeform, locality: local, options: {flavour: small, size: 3}}\n")
        let options = try #require(config.providers.first?.options)
        #expect(options.string("flavour") == "small")
        #expect(options.string("size") == "3")
    }
}
