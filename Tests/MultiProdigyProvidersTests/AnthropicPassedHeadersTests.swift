import Testing

@testable import MultiProdigyProviders

/// How a client's `anthropic-beta` joins the one a provider's `headers:` sets, for Messages requests
/// passed through natively.
@Suite struct AnthropicPassedHeadersTests {
    @Test(
        arguments: [
            (nil, "interleaved-thinking-2025-05-14", "interleaved-thinking-2025-05-14"),
            ("prompt-caching-2024-07-31", "interleaved-thinking-2025-05-14", "prompt-caching-2024-07-31,interleaved-thinking-2025-05-14"),
            ("a, b", "b,c", "a,b,c"),
            ("a", " a ", "a"),
            ("", "a,,b", "a,b"),
            ("a", "", "a"),
        ] as [(String?, String, String)]
    )
    func theClientsBetaFlagsFollowTheConfiguredOnesEachOnce(configured: String?, client: String, sent: String) {
        #expect(AnthropicProvider.joinedBetas(configured, client) == sent)
    }
}
