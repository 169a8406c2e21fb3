import Testing

@testable import MultiProdigyServer

/// The middleware's path checks: what the router will match, and which raw paths may reach the dashboard.
@Suite struct GatewayMiddlewarePathTests {
    @Test(arguments: [
        ("/v1/chat/completions", "/v1/chat/completions"),
        ("//v1//models", "/v1/models"),
        ("/ui/", "/ui"),
        ("/", "/"),
        ("//", "/"),
    ])
    func routedPathsDropEmptySegments(_ raw: String, _ routed: String) {
        #expect(GatewayMiddleware.routedPath(raw) == routed)
    }

    /// Every raw path that routes to the dashboard holds `/ui`; the check may say yes to others (it only
    /// spares an open gateway's requests from parsing), never no to one of these.
    @Test(arguments: [
        ("/ui", true),
        ("/ui/login?next=/ui", true),
        ("//ui/../admin/keys", true),
        ("/v1/ui", true),
        ("/u/ui", true),
        ("/v1/chat/completions", false),
        ("/u/i", false),
        ("/uui", false),
        ("ui/", true),
        ("xui", false),
        ("", false),
    ])
    func dashboardPathsAreSpottedBeforeParsing(_ raw: String, _ spotted: Bool) {
        #expect(GatewayMiddleware.mayBeDashboard(rawPath: raw) == spotted)
        if GatewayMiddleware.isDashboard(GatewayMiddleware.routedPath(raw)) { #expect(spotted) }
    }
}
