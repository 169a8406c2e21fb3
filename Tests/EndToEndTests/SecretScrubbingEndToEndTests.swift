import Foundation
import HTTPTypes
import Testing

@testable import MultiProdigyPrivacy

/// Upstreams that quote the credentials they were sent in their error text: the client sees the
/// mask, never the key, and neither does the gateway's log at its most verbose level.
///
/// The keys have no known shape (`canary-…`), so only the configuration's secrets can mask them
/// where an upstream quotes the key without its `Bearer` scheme.
@Suite struct SecretScrubbingEndToEndTests {
    private static let mask = SecretScrubber.mask
    private static let openAIKey = "canary-openai-zq8w4k"

    private static let openAIYAML = """
        providers:
          fake: {type: openai, base_url: "http://127.0.0.1:{PORT0}/v1", api_key: \(openAIKey), locality: local}
        models:
          m: {provider: fake, model: upstream-model}
        """

    /// An OpenAI-shaped error quoting the `Authorization` header whole and its token alone.
    private static let openAIEchoBody =
        #"{"error":{"message":"Rejected. Authorization: {ECHO}; the key {ECHO_TOKEN} is not valid here","type":"invalid_request_error"}}"#

    /// Checks that `text` carries the mask and none of `keys`.
    private static func expectMasked(_ text: String, keys: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for key in keys {
            #expect(!text.contains(key), "\(text)", sourceLocation: sourceLocation)
        }
        #expect(text.contains(mask), "\(text)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [400, 422, 429, 500, 503])
    func anOpenAICompatibleUpstreamQuotingItsKeyInAnErrorShowsTheClientTheMask(status: Int) async throws {
        let upstream = FakeUpstream(
            .echoing(
                header: "authorization",
                FakeBehaviourBox(.respond(status: HTTPResponse.Status(code: status), body: Self.openAIEchoBody))
            )
        )
        let log = LogCapture()
        try await withGateway(upstreams: [upstream], yaml: Self.openAIYAML, logger: log.logger(), knownSecrets: log.secrets) { gateway in
            let reply = try await gateway.chat("m")
            #expect(reply.status == status)
            // The upstream really was sent the key, and really quoted it.
            #expect(upstream.requests.first?.headers[.authorization] == "Bearer \(Self.openAIKey)")
            Self.expectMasked(reply.body, keys: [Self.openAIKey])
            #expect((reply.error["message"] as? String)?.contains("the key \(Self.mask) is not valid") == true)
        }
        #expect(!log.text.isEmpty)
        #expect(!log.text.contains(Self.openAIKey))
    }

    @Test func everyReasonJoinedIntoEveryTargetFailedIsMasked() async throws {
        let upstream = FakeUpstream(
            .echoing(header: "authorization", FakeBehaviourBox(.respond(status: .internalServerError, body: Self.openAIEchoBody)))
        )
        let yaml = """
            providers:
              a: {type: openai, base_url: "http://127.0.0.1:{PORT0}/v1", api_key: canary-first-zq8w4k, locality: local}
              b: {type: openai, base_url: "http://127.0.0.1:{PORT0}/v1", api_key: canary-second-zq8w4k, locality: local}
            models:
              ma: {provider: a, model: x}
              mb: {provider: b, model: x}
            routes:
              r: {policy: ordered, targets: [ma, mb]}
            """
        let log = LogCapture()
        try await withGateway(upstreams: [upstream], yaml: yaml, logger: log.logger(), knownSecrets: log.secrets) { gateway in
            let reply = try await gateway.chat("r")
            #expect(reply.status == 500)
            let message = try #require(reply.error["message"] as? String)
            #expect(message.contains("Every target for 'r' failed"))
            #expect(message.contains("ma (a): HTTP 500"))
            #expect(message.contains("mb (b): HTTP 500"))
            Self.expectMasked(message, keys: ["canary-first-zq8w4k", "canary-second-zq8w4k"])
        }
        #expect(!log.text.contains("canary-first-zq8w4k") && !log.text.contains("canary-second-zq8w4k"))
    }

    @Test func aMidStreamErrorEventQuotingTheKeyReachesTheClientMasked() async throws {
        let events = [
            FakeUpstream.roleChunk(), FakeUpstream.contentChunk("Hi"),
            #"{"error":{"message":"upstream crashed serving {ECHO} (key {ECHO_TOKEN})","type":"server_error"}}"#,
        ]
        let upstream = FakeUpstream(.echoing(header: "authorization", FakeBehaviourBox(.stream(events: events, done: false))))
        let log = LogCapture()
        try await withGateway(upstreams: [upstream], yaml: Self.openAIYAML, logger: log.logger(), knownSecrets: log.secrets) { gateway in
            let reply = try await gateway.chat("m", stream: true)
            #expect(reply.status == 200)
            let last = try #require(reply.events.last)
            #expect(last.contains("stream_interrupted"))
            #expect(last.contains("upstream crashed serving Bearer \(Self.mask) (key \(Self.mask))"))
            Self.expectMasked(reply.body, keys: [Self.openAIKey])
        }
        #expect(!log.text.contains(Self.openAIKey))
    }

    @Test func anEmbeddingsErrorQuotingTheKeyIsMasked() async throws {
        let upstream = FakeUpstream(
            .echoing(header: "authorization", FakeBehaviourBox(.respond(status: .badRequest, body: Self.openAIEchoBody)))
        )
        let log = LogCapture()
        try await withGateway(upstreams: [upstream], yaml: Self.openAIYAML, logger: log.logger(), knownSecrets: log.secrets) { gateway in
            let reply = try await gateway.send(.POST, "/v1/embeddings", body: #"{"model":"m","input":"x"}"#)
            #expect(reply.status == 400)
            #expect(upstream.requests.first?.path == "/v1/embeddings")
            Self.expectMasked(reply.body, keys: [Self.openAIKey])
        }
        #expect(!log.text.contains(Self.openAIKey))
    }

    @Test(arguments: [422, 500])
    func aTGIErrorQuotingTheKeyIsMasked(status: Int) async throws {
        let key = "canary-hf-zq8w4k"
        let upstream = FakeUpstream(
            .echoing(
                header: "authorization",
                FakeBehaviourBox(
                    .raw(
                        status: HTTPResponse.Status(code: status),
                        contentType: "application/json",
                        body:
                            #"{"error":"Input validation error: token {ECHO_TOKEN} from {ECHO} is not allowed","error_type":"validation"}"#
                    )
                )
            )
        )
        let yaml = """
            providers:
              tgi: {type: huggingface, base_url: "http://127.0.0.1:{PORT0}", api_key: \(key), locality: local}
            models:
              llama: {provider: tgi, model: tgi}
            """
        let log = LogCapture()
        try await withGateway(upstreams: [upstream], yaml: yaml, logger: log.logger(), knownSecrets: log.secrets) { gateway in
            let reply = try await gateway.chat("llama")
            // TGI's 422 is a validation error, which OpenAI's clients know as 400.
            #expect(reply.status == (status == 422 ? 400 : status))
            #expect(upstream.requests.first?.headers[.authorization] == "Bearer \(key)")
            Self.expectMasked(reply.body, keys: [key])
        }
        #expect(!log.text.contains(key))
    }

    @Test func anAnthropicErrorAndMidStreamErrorEventQuotingTheKeyAreMasked() async throws {
        let key = "canary-anthropic-zq8w4k"
        let error = #"{"type":"error","error":{"type":"invalid_request_error","message":"x-api-key {ECHO} is not valid"}}"#
        let stream = [
            AnthropicEndToEndTests.messageStart, AnthropicEndToEndTests.textStart, AnthropicEndToEndTests.textDelta("Hi"),
            AnthropicEndToEndTests.event(
                "error",
                #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded for {ECHO}"}}"#
            ),
        ]
        let upstream = FakeUpstream()
        upstream.script([
            .echoing(header: "x-api-key", FakeBehaviourBox(.raw(status: .badRequest, contentType: "application/json", body: error))),
            .echoing(header: "x-api-key", FakeBehaviourBox(.chunked(contentType: "text/event-stream", chunks: stream))),
        ])
        let yaml = """
            providers:
              claude: {type: anthropic, base_url: "http://127.0.0.1:{PORT0}", api_key: \(key), locality: cloud}
            models:
              sonnet: {provider: claude, model: claude-sonnet-4-5}
            """
        let log = LogCapture()
        try await withGateway(upstreams: [upstream], yaml: yaml, logger: log.logger(), knownSecrets: log.secrets) { gateway in
            let rejected = try await gateway.chat("sonnet")
            #expect(rejected.status == 400)
            #expect(upstream.requests.first?.headers[HTTPField.Name("x-api-key")!] == key)
            Self.expectMasked(rejected.body, keys: [key])
            let interrupted = try await gateway.chat("sonnet", stream: true)
            let last = try #require(interrupted.events.last)
            #expect(last.contains("stream_interrupted"))
            Self.expectMasked(last, keys: [key])
        }
        #expect(!log.text.contains(key))
    }

    @Test func aHealthCheckDetailQuotingTheKeyIsMaskedInReady() async throws {
        let key = "canary-probe-zq8w4k"
        let upstream = FakeUpstream(
            .echoing(
                header: "authorization",
                FakeBehaviourBox(
                    .raw(status: .internalServerError, contentType: "application/json", body: #"{"error":"no route for {ECHO_TOKEN}"}"#)
                )
            )
        )
        let yaml = """
            providers:
              tgi: {type: huggingface, base_url: "http://127.0.0.1:{PORT0}", api_key: \(key), locality: local}
            models:
              llama: {provider: tgi, model: tgi}
            resilience:
              health_check: {interval: 100ms}
            """
        let log = LogCapture()
        try await withGateway(upstreams: [upstream], yaml: yaml, healthChecks: true, logger: log.logger(), knownSecrets: log.secrets) {
            gateway in
            try await waitFor { upstream.requests.filter { $0.path == "/health" }.count >= 2 }
            // The only provider is down: `/ready` answers 503 with the probe's detail in its message.
            let ready = try await gateway.send(.GET, "/ready")
            #expect(ready.status == 503)
            #expect(ready.body.contains("no route for \(Self.mask)"), "\(ready.body)")
            Self.expectMasked(ready.body, keys: [key])
        }
        #expect(log.text.contains("failed its health check"))
        #expect(!log.text.contains(key))
    }
}
