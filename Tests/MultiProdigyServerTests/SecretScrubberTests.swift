import Foundation
import HTTPTypes
import Logging
import NIOCore
import Synchronization
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyConfig
@testable import MultiProdigyPrivacy
@testable import MultiProdigyServer
@testable import MultiProdigyCore

/// ``SecretScrubber`` on literal fixtures: known secrets, shaped keys, overlaps, JSON escaping, and
/// text that must come through untouched.
@Suite struct SecretScrubberTests {
    private let mask = SecretScrubber.mask

    @Test func aKnownSecretIsMaskedEveryTimeItAppears() {
        let scrubber = SecretScrubber(secrets: ["canary-zq8w4k-plain"])
        #expect(
            scrubber.scrub("key canary-zq8w4k-plain rejected; retry with canary-zq8w4k-plain")
                == "key \(mask) rejected; retry with \(mask)"
        )
    }

    @Test func overlappingAndNestedSecretsLeaveNoPieceBehind() {
        let overlapping = SecretScrubber(secrets: ["abcdefgh12345678", "12345678zyxwvuts"])
        #expect(overlapping.scrub("x abcdefgh12345678zyxwvuts y") == "x \(mask) y")
        let nested = SecretScrubber(secrets: ["secretvalue", "supersecretvalue!"])
        #expect(nested.scrub("(supersecretvalue!)") == "(\(mask))")
        #expect(nested.scrub("secretvalue") == mask)
        // Two secrets side by side become one mask: nothing between them to keep.
        let adjacent = SecretScrubber(secrets: ["aaaaaaaa", "bbbbbbbb"])
        #expect(adjacent.scrub("aaaaaaaabbbbbbbb") == mask)
    }

    @Test func valuesShorterThanEightCharactersAreNotMatched() {
        let scrubber = SecretScrubber(secrets: ["test", "local12", ""])
        #expect(scrubber.scrub("test failed on local12") == "test failed on local12")
        #expect(SecretScrubber.minimumSecretLength == 8)
    }

    @Test func aBearerTokenIsMaskedWhetherKnownOrNot() {
        let scrubber = SecretScrubber()
        #expect(
            scrubber.scrub("invalid header Authorization: Bearer 9f8e7d6c5b4a39281706aBcD")
                == "invalid header Authorization: Bearer \(mask)"
        )
        #expect(scrubber.scrub("got bearer 9f8e7d6c5b4a39281706aBcD.x/y+z=") == "got bearer \(mask)")
    }

    @Test(arguments: [
        "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12",
        "sk-ant-api03-Ab12Cd34Ef56Gh78Ij90Kl12-xy",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "github_pat_11AbCdEfGhIjKlMnOpQrSt_uvwxyz",
        "glpat-Ab12Cd34Ef56Gh78Ij90",
        "xoxb-1234567890-abcdefghij",
        "sk_live_AbCdEfGh12345678",
        "AKIAIOSFODNN7EXAMPLE",
        "AIzaSyD8x2Qk7Lm4Nv9Pq3Rs6Tu1Wx5Yz0Ab2Cd",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ])
    func keysOfKnownShapesAreMaskedWhole(key: String) {
        let scrubber = SecretScrubber()
        #expect(scrubber.scrub("The key \(key) is invalid.") == "The key \(mask) is invalid.")
        #expect(scrubber.scrub(#"{"detail":"\#(key)"}"#) == #"{"detail":"\#(mask)"}"#)
    }

    @Test func aVirtualKeyOfTheGatewayIsMasked() {
        let key = KeySecret.generate()
        #expect(SecretScrubber().scrub("caller \(key) over budget") == "caller \(mask) over budget")
    }

    @Test func credentialAssignmentsLoseTheirValue() {
        let scrubber = SecretScrubber()
        #expect(scrubber.scrub(#"sent {"api_key": "Zx81Qw72Er63Ty54"}"#) == #"sent {"api_key": "\#(mask)"}"#)
        #expect(scrubber.scrub("x-api-key=Zx81Qw72Er63Ty54&model=a") == "x-api-key=\(mask)&model=a")
        #expect(
            scrubber.scrub("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- tail") == "\(mask) tail"
        )
    }

    @Test(arguments: [
        "HTTP 400: model 'gpt-4o-mini' not found",
        "the bearer of this letter is welcome",
        "max_tokens: 1024 exceeds the limit",
        "install scikit-learn or sk-learn first",
        "Every target for 'auto' failed: a (fake): HTTP 500: boom.",
        "request id req_01HZX3K9Q2 at 2026-11-24T18:31:37Z",
        "",
    ])
    func ordinaryTextComesThroughUntouched(text: String) {
        #expect(SecretScrubber(secrets: ["canary-zq8w4k-plain"]).scrub(text) == text)
    }

    /// The upstream's JSON may split a secret with escapes (`\/`, `\u002d`); the scrubber sees the
    /// decoded text, as the client will. A message that itself quotes JSON keeps the escapes, and
    /// the escaped form is matched too.
    @Test func aSecretSplitByJSONEscapingIsMaskedInTheDecodedText() {
        let secret = "canary/zq8w4k-plain"
        let scrubber = SecretScrubber(secrets: [secret])
        let body = ByteBuffer(string: #"{"error":{"message":"denied for canary\/zq8w4k\u002dplain","type":"invalid_request_error"}}"#)
        let error = UpstreamErrorBody.normalize(status: .badRequest, body: body, provider: "fake")
        #expect(error.message == "denied for \(secret)")
        #expect(scrubber.scrub(error).message == "denied for \(mask)")
        #expect(scrubber.scrub(#"upstream said {"key":"canary\/zq8w4k-plain"}"#) == #"upstream said {"key":"\#(mask)"}"#)
        let quoted = SecretScrubber(secrets: [#"pass"word-123456"#])
        #expect(quoted.scrub(#"{"token":"pass\"word-123456"}"#) == #"{"token":"\#(mask)"}"#)
    }

    @Test func aProviderErrorLosesSecretsInItsMessageAndItsEnvelope() {
        let scrubber = SecretScrubber(secrets: ["canary-zq8w4k-plain"])
        let envelope = GatewayError(
            status: .badRequest,
            message: "bad key canary-zq8w4k-plain",
            type: "invalid_request_error",
            param: "canary-zq8w4k-plain",
            code: "canary-zq8w4k-plain"
        )
        let error = scrubber.scrub(ProviderError(kind: .client, message: "HTTP 400: bad key canary-zq8w4k-plain", upstreamError: envelope))
        #expect(error.message == "HTTP 400: bad key \(mask)")
        #expect(error.upstreamError?.message == "bad key \(mask)")
        #expect(error.upstreamError?.param == mask)
        #expect(error.upstreamError?.code == mask)
        #expect(error.kind == .client)
    }

    /// A configuration with a master key and one provider with these secrets.
    static func config(headers: [String: String], options: [String: String]) -> GatewayConfig {
        var config = GatewayConfig()
        config.auth.masterKey = "master-canary-1"
        config.providers = [
            ProviderConfig(
                name: "a",
                type: "openai",
                baseURL: "http://127.0.0.1:1/v1",
                apiKey: "key-canary-1",
                headers: headers,
                options: options
            )
        ]
        return config
    }

    @Test func theConfigurationsSecretsAreItsKeysCredentialHeadersAndMasterKey() {
        let config = Self.config(
            headers: [
                "Proxy-Authorization": "Bearer proxy-canary-1", "X-Goog-Api-Key": "goog-canary-1", "anthropic-version": "2023-06-01",
            ],
            options: ["client_secret": "option-canary-1", "region": "eu-west-1a"]
        )
        let secrets = Set(SecretScrubber.secrets(in: config))
        #expect(
            secrets == [
                "master-canary-1", "key-canary-1", "Bearer proxy-canary-1", "proxy-canary-1", "goog-canary-1", "option-canary-1",
            ]
        )
    }

    @Test func knownSecretsRememberEveryConfigurationLearnt() {
        let known = KnownSecrets()
        var first = GatewayConfig()
        first.auth.masterKey = "master-canary-old"
        var second = GatewayConfig()
        second.auth.masterKey = "master-canary-new"
        known.learn(from: first)
        let scrubber = known.learn(from: second)
        #expect(scrubber.scrub("master-canary-old master-canary-new") == "\(mask) \(mask)")
        #expect(known.scrubber.scrub("master-canary-old") == mask)
    }

    @Test func aPrintedConfigurationShowsNoSecret() {
        let config = Self.config(headers: ["Authorization": "Bearer header-canary-1"], options: ["token": "option-canary-1"])
        for printed in ["\(config)", String(reflecting: config), "\(config.providers)", "\(config.auth)"] {
            #expect(!printed.contains("canary"), "\(printed)")
        }
        #expect("\(config.providers[0])".contains("api_key: \(mask)"))
    }

    @Test func theLogHandlerMasksSecretsInMessagesAndMetadata() {
        let lines = Mutex<[String]>([])
        let known = KnownSecrets()
        var config = GatewayConfig()
        config.auth.masterKey = "master-canary-1"
        known.learn(from: config)
        let logger = Logger(label: "test") { label in
            GatewayLogHandler(label: label, level: .trace, secrets: known) { line in lines.withLock { $0.append(line) } }
        }
        logger.trace("saw master-canary-1", metadata: ["header": "Bearer 9f8e7d6c5b4a39281706aBcD"])
        let written = lines.withLock { $0.joined() }
        #expect(written.contains("saw \(mask) header=Bearer \(mask)"))
        #expect(!written.contains("canary") && !written.contains("9f8e7d"))
    }
}
