import NIOHTTP1
import Testing

@testable import MultiProdigyServer

/// RFC 9112 §3.2's `Host` rule, with literal heads.
@Suite struct HostHeaderRuleTests {
    static func head(_ version: HTTPVersion, _ hosts: [String]) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        for host in hosts { headers.add(name: "Host", value: host) }
        headers.add(name: "Content-Length", value: "0")
        return HTTPRequestHead(version: version, method: .GET, uri: "/health", headers: headers)
    }

    @Test func oneValidHostIsAccepted() {
        #expect(HostHeaderRule.violation(in: Self.head(.http1_1, ["gateway.internal:4100"])) == nil)
        #expect(HostHeaderRule.violation(in: Self.head(.http1_1, ["127.0.0.1"])) == nil)
        #expect(HostHeaderRule.violation(in: Self.head(.http1_1, ["[::1]:4100"])) == nil)
    }

    @Test func http11WithoutHostIsRefusedButHttp10MayOmitIt() {
        #expect(HostHeaderRule.violation(in: Self.head(.http1_1, [])) == "An HTTP/1.1 request needs a Host header (RFC 9112, section 3.2).")
        #expect(HostHeaderRule.violation(in: Self.head(.http1_0, [])) == nil)
    }

    @Test func twoHostsAreRefusedWhateverTheVersion() {
        let message = "The request has 2 Host headers; it may have only one (RFC 9112, section 3.2)."
        #expect(HostHeaderRule.violation(in: Self.head(.http1_1, ["a", "a"])) == message)
        #expect(HostHeaderRule.violation(in: Self.head(.http1_0, ["a", "b"])) == message)
    }

    @Test(arguments: [
        ("example.com", true), ("", true), ("a-b.c_d~e", true), ("x:80", true), ("x:", true), ("[v1.fe80::a+en1]", true),
        ("%61bc", true), ("[::1]", true),
        ("a b", false), ("a/b", false), ("a@b", false), ("x:80x", false), ("x:123456", false), ("[::1", false), ("[]", false),
        ("[::1]x", false), ("a\tb", false), ("é.example", false), ("x:80:81", false),
    ])
    func hostValuesFollowRFC3986(_ value: String, _ valid: Bool) {
        #expect(HostHeaderRule.isValidHost(value) == valid)
    }
}
