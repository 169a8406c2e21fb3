import Testing

@testable import MultiProdigyProviders

/// The one rule set by which every provider turns its `base_url` into the root it appends paths to.
@Suite struct BaseURLNormalizationTests {
    @Test(arguments: [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1"),
        ("http://127.0.0.1:8080///", "http://127.0.0.1:8080/v1"),
        ("http://127.0.0.1:8080/v1//", "http://127.0.0.1:8080/v1"),
        ("http://127.0.0.1:8080/openai/deployments", "http://127.0.0.1:8080/openai/deployments"),
    ])
    func defaultingPathAddsItOnlyWhenTheURLHasNoPath(_ baseURL: String, _ root: String) {
        #expect(BaseURLNormalization.defaultingPath("/v1").apiRoot(from: baseURL) == root)
    }

    @Test(arguments: [
        ("http://h:1/v1/", "http://h:1"),
        ("http://h:1//v1", "http://h:1"),
        ("http://h:1/api/v1", "http://h:1"),
        ("http://h:1/v1/api", "http://h:1/v1"),
        ("http://h:1/v2", "http://h:1/v2"),
        ("http://h:1/proxy/", "http://h:1/proxy"),
    ])
    func strippingSuffixesDropsEachInTurnWithTheSlashesBeforeIt(_ baseURL: String, _ root: String) {
        #expect(BaseURLNormalization.strippingSuffixes(["/v1", "/api"]).apiRoot(from: baseURL) == root)
    }

    @Test(arguments: [
        ("http://h:1", "http://h:1/v1beta"),
        ("http://h:1/", "http://h:1/v1beta"),
        ("http://h:1/v1alpha/", "http://h:1/v1alpha"),
        ("http://h:1/v1/", "http://h:1/v1"),
        ("http://h:1/proxy/v2", "http://h:1/proxy/v2/v1beta"),
    ])
    func versionedAppendsTheVersionUnlessTheRootNamesOne(_ baseURL: String, _ root: String) {
        #expect(BaseURLNormalization.versioned("/v1beta", accepting: ["v1beta", "v1", "v1alpha"]).apiRoot(from: baseURL) == root)
    }

}
