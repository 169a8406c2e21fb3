import AsyncHTTPClient
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyCore
@testable import MultiProdigyJSON
@testable import MultiProdigyProviders

/// The providers' native calls (Responses to `type: openai`, Messages and count_tokens to
/// `type: anthropic`), made directly against fake upstreams on loopback: the URL each call hits, the
/// bytes it sends (only `model` rewritten), the headers, the answer handed back unchanged, and the
/// upstream's errors mapped as for chat.
@Suite struct NativeProviderCallTests {
    private static var deadline: NIODeadline { .now() + .seconds(60) }
    private static let logger = Logger(label: "native-provider-test")

    /// A Responses request with what a translation through chat would lose: a built-in tool,
    /// reasoning, `store`, the client's spacing, and the gateway's own field, which must not go upstream.
    static let responsesBody = """
        {"model": "gpt", \(responsesInput),
         "tools":[{"type":"web_search_preview","search_context_size":"low"}], "multiprodigy": {"route": "x"},
         "reasoning":{"effort":"low","summary":"auto"},"store":false,"stream": true}
        """
    static let responsesInput = #""input":[{"role":"user","content":[{"type":"input_text","text":"Weather in Paris?"}]}]"#
    /// ``responsesBody`` as it must reach the upstream: each member's bytes as the client wrote them
    /// (the rewriter joins members with a bare comma), `model` replaced, `multiprodigy` gone.
    static let responsesUpstreamBody = """
        {"model": "gpt-4.1-mini",\(responsesInput),"tools":[{"type":"web_search_preview","search_context_size":"low"}],\
        "reasoning":{"effort":"low","summary":"auto"},"store":false,"stream": true}
        """

    /// A Messages request with what a translation through chat would lose: `cache_control`, a signed
    /// thinking block, `top_k`, and the gateway's own field.
    static let messagesBody = """
        {"model":"sonnet","max_tokens":1024,"top_k":40,"multiprodigy":{"route":"x"},
         \(messagesMembers)}
        """
    static let messagesMembers = #"""
        "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],"thinking":{"type":"enabled","budget_tokens":512},\#
        "messages":[{"role":"user","content":"Hi"},\#
        {"role":"assistant","content":[{"type":"thinking","thinking":"The user greets.","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},{"type":"text","text":"Hello"}]},\#
        {"role":"user","content":[{"type":"text","text":"Again","cache_control":{"type":"ephemeral","ttl":"1h"}}]}]
        """#
    /// ``messagesBody`` as it must reach the upstream.
    static let messagesUpstreamBody = #"{"model":"claude-sonnet-4-5","max_tokens":1024,"top_k":40,"# + messagesMembers + "}"

    // MARK: Helpers

    /// Runs `upstream` (over TLS with the test CA when `tls`), and gives it and its transport to `body`.
    private func withProvider<T: Sendable>(
        _ upstream: FakeUpstream,
        type: String,
        path: String = "",
        apiKey: String = "test-key",
        headers: [String: String] = [:],
        options: ProviderOptions = [:],
        tls: Bool = false,
        _ body: (any LLMProvider, UpstreamTransport) async throws -> T
    ) async throws -> T {
        let serverTLS = tls ? try TestCertificateAuthority.shared.serverConfiguration : nil
        return try await withService({ onPort in try await upstream.run(tls: serverTLS, onPort: onPort) }) { port in
            let config = ProviderConfig(
                name: "upstream",
                type: type,
                baseURL: "\(tls ? "https" : "http")://127.0.0.1:\(port)\(path)",
                apiKey: apiKey,
                headers: headers,
                caFile: tls ? TestCertificateAuthority.shared.caFile : nil,
                options: options
            )
            let transport = UpstreamTransport(group: MultiThreadedEventLoopGroup.singleton, connectTimeout: .seconds(10))
            defer { transport.shutdown() }
            let context = ProviderContext(transport: transport, gatewayConfig: GatewayConfig(), logger: Self.logger)
            return try await body(try ProviderRegistry.makeProvider(for: config, context: context), transport)
        }
    }

    private func call(_ api: NativeAPI, _ body: String, model: String, passedHeaders: [String: String] = [:]) throws -> NativeCall {
        NativeCall(
            request: try NativeRequest(api: api, body: ByteBuffer(string: body), passedHeaders: passedHeaders),
            upstreamModel: model,
            responseDeadline: Self.deadline,
            logger: Self.logger
        )
    }

    private func chatCall(model: String) throws -> ChatCompletionCall {
        ChatCompletionCall(
            request: try ChatCompletionRequest.parse(
                ByteBuffer(string: #"{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"Hi"}]}"#)
            ),
            upstreamModel: model,
            responseDeadline: Self.deadline,
            logger: Self.logger
        )
    }

    private func collect(_ stream: NativeEventStream) async throws -> [SSEEvent] {
        var events: [SSEEvent] = []
        for try await event in stream.events {
            events.append(event)
            // Bounded: the fakes send a dozen events.
            if events.count > 1000 { break }
        }
        return events
    }

    /// The events of SSE `frames` as an upstream's wire carries them.
    private func events(in frames: [String]) -> [SSEEvent] {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        parser.feed(Array(frames.joined().utf8), into: &events)
        if let last = parser.finish() { events.append(last) }
        return events
    }

    private func header(_ name: String, of request: RecordedRequest?) -> String? {
        request?.headers[HTTPField.Name(name)!]
    }

    private func nativeError(_ work: () async throws -> Void) async -> ProviderError? {
        do {
            try await work()
            return nil
        } catch {
            return error as? ProviderError
        }
    }

    // MARK: OpenAI Responses

    @Test(arguments: [false, true])
    func responsesGoToTheUpstreamsOwnEndpointWithOnlyModelRewritten(tls: Bool) async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.response(model: "gpt-4.1-mini")))
        try await withProvider(upstream, type: "openai", path: "/v1", tls: tls) { provider, transport in
            #expect(provider.nativeAPIs == [.responses])
            let answer = try await provider.completeNative(call(.responses, Self.responsesBody, model: "gpt-4.1-mini"))
            #expect(String(buffer: answer) == FakeUpstream.response(model: "gpt-4.1-mini"), "the answer comes back byte for byte")
            #expect(transport.idleConnectionCount == 1, "the call's connection is kept for the next")
        }
        let request = try #require(upstream.requests.first)
        #expect(upstream.requests.count == 1)
        #expect(request.method == .post)
        #expect(request.path == "/v1/responses")
        #expect(request.bodyString == Self.responsesUpstreamBody)
        #expect(header("authorization", of: request) == "Bearer test-key")
        #expect(header("accept", of: request) == "application/json")
        #expect(header("content-type", of: request) == "application/json")
    }

    @Test func aStreamedResponsesCallReturnsTheUpstreamsEventsUnchanged() async throws {
        let frames = FakeUpstream.responsesEvents(["Sunny", " in Paris."], model: "gpt-4.1-mini")
        let upstream = FakeUpstream(.chunked(contentType: "text/event-stream", chunks: frames))
        let received = try await withProvider(upstream, type: "openai", headers: ["OpenAI-Organization": "org-1"]) { provider, _ in
            try await collect(try await provider.streamNative(call(.responses, Self.responsesBody, model: "gpt-4.1-mini")))
        }
        #expect(received == events(in: frames))
        #expect(received.first?.name == "response.created")
        #expect(received.last?.name == "response.completed")
        // The fake's events are OpenAI's: each names its type and numbers itself in order.
        let payloads = received.map { (try? JSONSerialization.jsonObject(with: Data($0.data))) as? [String: Any] ?? [:] }
        #expect(payloads.map { $0["type"] as? String } == received.map(\.name))
        #expect(payloads.map { $0["sequence_number"] as? Int } == Array(0..<received.count))
        let completed = try #require(payloads.last?["response"] as? [String: Any])
        #expect((completed["usage"] as? [String: Any])?["total_tokens"] as? Int == 13)
        let request = try #require(upstream.requests.first)
        #expect(request.path == "/v1/responses", "a base_url without a path gets /v1, as for chat")
        #expect(request.bodyString == Self.responsesUpstreamBody)
        #expect(header("accept", of: request) == "text/event-stream")
        #expect(header("authorization", of: request) == "Bearer test-key")
        #expect(header("openai-organization", of: request) == "org-1")
    }

    @Test(arguments: [false, true])
    func responsesErrorsMapAsForChat(tls: Bool) async throws {
        let limited = FakeBehaviour.respondWithHeaders(
            status: .tooManyRequests,
            headers: [("Retry-After", "7")],
            body:
                #"{"error":{"message":"Rate limit reached for gpt-4.1-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#
        )
        let upstream = FakeUpstream(limited)
        let (native, chat) = try await withProvider(upstream, type: "openai", tls: tls) { provider, _ in
            let native = await nativeError { _ = try await provider.completeNative(call(.responses, Self.responsesBody, model: "gpt")) }
            let chat = await nativeError { _ = try await provider.complete(chatCall(model: "gpt")) }
            return (native, chat)
        }
        let error = try #require(native)
        #expect(error.kind == .rateLimited)
        #expect(error.upstreamStatus == 429)
        #expect(error.retryAfter == .seconds(7))
        #expect(error.message == chat?.message)
        #expect(error.upstreamError == chat?.upstreamError)
        #expect(upstream.requests.map(\.path) == ["/v1/responses", "/v1/chat/completions"])
    }

    @Test func responsesAPITranslateLeavesTheResponsesAPIToTheChatPath() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.response()))
        try await withProvider(upstream, type: "openai", options: ["responses_api": "translate"]) { provider, _ in
            #expect(provider.nativeAPIs.isEmpty)
            let error = await nativeError { _ = try await provider.completeNative(call(.responses, Self.responsesBody, model: "gpt")) }
            #expect(error?.kind == .unsupported)
            let streamError = await nativeError { _ = try await provider.streamNative(call(.responses, Self.responsesBody, model: "gpt")) }
            #expect(streamError?.kind == .unsupported)
        }
        #expect(upstream.requests.isEmpty)
    }

    @Test func huggingFaceDoesNotClaimTheResponsesAPI() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.response()))
        for path in ["/v1", "/"] {
            try await withProvider(upstream, type: "huggingface", path: path) { provider, _ in
                #expect(provider.nativeAPIs.isEmpty, "TGI and TEI serve no /v1/responses")
                let error = await nativeError { _ = try await provider.completeNative(call(.responses, Self.responsesBody, model: "m")) }
                #expect(error?.kind == .unsupported)
            }
        }
        #expect(upstream.requests.isEmpty)
    }

    @Test func eachBuiltInTypeClaimsTheAPIsItsUpstreamSpeaks() async throws {
        let upstream = FakeUpstream()
        let expected: [(type: String, options: ProviderOptions, apis: Set<NativeAPI>)] = [
            ("openai", [:], [.responses]),
            ("openai", ["responses_api": "native"], [.responses]),
            ("openai", ["responses_api": "translate"], []),
            ("anthropic", [:], [.messages, .messagesCountTokens]),
            ("huggingface", [:], []),
            ("gemini", [:], []),
            ("ollama", [:], []),
        ]
        for entry in expected {
            try await withProvider(upstream, type: entry.type, options: entry.options) { provider, _ in
                #expect(provider.nativeAPIs == entry.apis, "\(entry.type) \(entry.options)")
            }
        }
    }

    @Test func aMisspeltResponsesAPIIsAConfigErrorNamingTheAllowedValues() async throws {
        let upstream = FakeUpstream()
        do {
            try await withProvider(upstream, type: "openai", options: ["responses_api": "transalte"]) { _, _ in }
            Issue.record("the provider was built")
        } catch let error as ConfigError {
            #expect(error.issues.count == 1)
            let issue = try #require(error.issues.first)
            #expect(issue.path == "providers.upstream.options.responses_api")
            #expect(issue.problem == "'transalte' is not one of native, translate")
            #expect(issue.fix == "write one of: native, translate")
        }
    }

    // MARK: Anthropic Messages

    @Test func messagesArePassedThroughWithEveryFieldAndTheClientsHeaders() async throws {
        let upstream = FakeUpstream(FakeUpstream.anthropicMessage(text: "Hello again"))
        let answer = try await withProvider(
            upstream,
            type: "anthropic",
            path: "/v1/",
            headers: ["anthropic-beta": "prompt-caching-2024-07-31"]
        ) { provider, _ in
            try await provider.completeNative(
                call(
                    .messages,
                    Self.messagesBody,
                    model: "claude-sonnet-4-5",
                    passedHeaders: ["anthropic-version": "2023-01-01", "anthropic-beta": "interleaved-thinking-2025-05-14"]
                )
            )
        }
        guard case .raw(_, _, let expected) = FakeUpstream.anthropicMessage(text: "Hello again") else { return }
        #expect(String(buffer: answer) == expected, "the answer comes back byte for byte")
        let request = try #require(upstream.requests.first)
        #expect(request.path == "/v1/messages")
        #expect(request.bodyString == Self.messagesUpstreamBody)
        #expect(header("x-api-key", of: request) == "test-key")
        #expect(header("authorization", of: request) == nil)
        #expect(header("anthropic-version", of: request) == "2023-01-01", "the client's version replaces the adapter's default")
        #expect(header("anthropic-beta", of: request) == "prompt-caching-2024-07-31,interleaved-thinking-2025-05-14")
    }

    @Test func anAnthropicVersionSetInHeadersWinsOverTheClients() async throws {
        let upstream = FakeUpstream(FakeUpstream.anthropicMessage())
        try await withProvider(upstream, type: "anthropic", headers: ["Anthropic-Version": "2023-06-01"]) { provider, _ in
            _ = try await provider.completeNative(
                call(.messages, Self.messagesBody, model: "claude-sonnet-4-5", passedHeaders: ["anthropic-version": "2099-01-01"])
            )
            _ = try await provider.completeNative(
                call(.messages, Self.messagesBody, model: "claude-sonnet-4-5", passedHeaders: ["anthropic-beta": "a, b,a"])
            )
        }
        let requests = upstream.requests
        #expect(requests.count == 2)
        #expect(requests.map { header("anthropic-version", of: $0) } == ["2023-06-01", "2023-06-01"])
        #expect(header("anthropic-beta", of: requests.first) == nil, "no beta unless the client or the config sends one")
        #expect(header("anthropic-beta", of: requests.last) == "a,b", "each flag once")
    }

    @Test func withoutClientHeadersTheAdaptersOwnVersionIsSent() async throws {
        let upstream = FakeUpstream(FakeUpstream.anthropicMessage())
        try await withProvider(upstream, type: "anthropic", options: ["anthropic_version": "2023-01-01"]) { provider, _ in
            _ = try await provider.completeNative(call(.messages, Self.messagesBody, model: "claude-sonnet-4-5"))
        }
        #expect(header("anthropic-version", of: upstream.requests.first) == "2023-01-01")
        #expect(header("anthropic-beta", of: upstream.requests.first) == nil)
    }

    @Test func countTokensGoesToItsOwnEndpointAndComesBackUnchanged() async throws {
        let upstream = FakeUpstream(.raw(status: .ok, contentType: "application/json", body: #"{"input_tokens":42}"#))
        let answer = try await withProvider(upstream, type: "anthropic") { provider, _ in
            try await provider.completeNative(
                call(
                    .messagesCountTokens,
                    #"{"model":"sonnet","messages":[{"role":"user","content":"Hi"}],"multiprodigy":{}}"#,
                    model: "claude-sonnet-4-5",
                    passedHeaders: ["anthropic-beta": "token-counting-2024-11-01"]
                )
            )
        }
        #expect(String(buffer: answer) == #"{"input_tokens":42}"#)
        let request = try #require(upstream.requests.first)
        #expect(request.path == "/v1/messages/count_tokens")
        #expect(request.bodyString == #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}]}"#)
        #expect(header("anthropic-beta", of: request) == "token-counting-2024-11-01")
        #expect(header("x-api-key", of: request) == "test-key")
    }

    @Test func aStreamedMessagesCallReturnsAnthropicsEventsUnchanged() async throws {
        let frames = FakeUpstream.anthropicEvents(["Hel", "lo"])
        let upstream = FakeUpstream(.chunked(contentType: "text/event-stream", chunks: frames))
        let body = Self.messagesBody.replacingOccurrences(of: #""top_k":40,"#, with: #""top_k":40,"stream":true,"#)
        let received = try await withProvider(upstream, type: "anthropic") { provider, _ in
            try await collect(
                try await provider.streamNative(
                    call(
                        .messages,
                        body,
                        model: "claude-sonnet-4-5",
                        passedHeaders: ["anthropic-beta": "fine-grained-tool-streaming-2025-05-14"]
                    )
                )
            )
        }
        #expect(received == events(in: frames))
        #expect(
            received.map(\.name) == [
                "message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta",
                "message_stop",
            ]
        )
        let request = try #require(upstream.requests.first)
        #expect(request.path == "/v1/messages")
        #expect(request.json["stream"] as? Bool == true)
        #expect(request.json["model"] as? String == "claude-sonnet-4-5")
        #expect(header("accept", of: request) == "text/event-stream")
        #expect(header("anthropic-beta", of: request) == "fine-grained-tool-streaming-2025-05-14")
    }

    @Test func messagesErrorsMapAsForChat() async throws {
        let overloaded = AnthropicEndToEndTests.anthropicError(529, type: "overloaded_error", message: "Overloaded")
        let invalid = AnthropicEndToEndTests.anthropicError(
            400,
            type: "invalid_request_error",
            message: "top_k: Input should be an integer"
        )
        let upstream = FakeUpstream()
        upstream.script([overloaded, overloaded, overloaded, invalid, invalid])
        let errors = try await withProvider(upstream, type: "anthropic") { provider, _ in
            [
                await nativeError { _ = try await provider.completeNative(call(.messages, Self.messagesBody, model: "c")) },
                await nativeError { _ = try await provider.streamNative(call(.messages, Self.messagesBody, model: "c")) },
                await nativeError { _ = try await provider.complete(chatCall(model: "c")) },
                await nativeError { _ = try await provider.completeNative(call(.messages, Self.messagesBody, model: "c")) },
                await nativeError { _ = try await provider.complete(chatCall(model: "c")) },
            ]
        }
        #expect(errors.map { $0?.kind } == [.server, .server, .server, .client, .client])
        #expect(errors[0]?.upstreamError?.code == "overloaded_error")
        for (native, chat) in [(errors[0], errors[2]), (errors[1], errors[2]), (errors[3], errors[4])] {
            #expect(native?.message == chat?.message)
            #expect(native?.upstreamError == chat?.upstreamError)
        }
        #expect(errors[3]?.message.contains("top_k") == true)
    }

    @Test func anthropicRefusesTheAPIsItDoesNotSpeak() async throws {
        let upstream = FakeUpstream(FakeUpstream.anthropicMessage())
        try await withProvider(upstream, type: "anthropic") { provider, _ in
            let responses = await nativeError { _ = try await provider.completeNative(call(.responses, Self.responsesBody, model: "c")) }
            #expect(responses?.kind == .unsupported)
            let countStream = await nativeError {
                _ = try await provider.streamNative(call(.messagesCountTokens, #"{"model":"c","messages":[]}"#, model: "c"))
            }
            #expect(countStream?.kind == .unsupported, "token counts are never streamed")
        }
        #expect(upstream.requests.isEmpty)
    }
}
