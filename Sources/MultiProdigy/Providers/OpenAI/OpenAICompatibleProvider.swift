import AsyncHTTPClient
import HTTPTypes
import NIOCore
import NIOHTTP1

/// Speaks to OpenAI and every OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama's `/v1`,
/// TGI's Messages API) by passing the client's request through.
///
/// The body goes upstream as the client sent it, with only `model` rewritten and the gateway's
/// `multiprodigy` field removed; the answer comes back as is.
///
/// Configuration keys: `base_url` (String, default `https://api.openai.com/v1`; a bare
/// `http://host:port` gets `/v1` appended), `api_key` (String, sent as `Authorization: Bearer`),
/// `headers` (map of extra headers).
public struct OpenAICompatibleProvider: LLMProvider {
    private let name: String
    private let upstream: UpstreamHTTPClient
    private let chatCompletionsURL: String
    private let maxResponseBytes: Int
    private let plainHTTPClient: PlainHTTPClient?
    private let plainRequestTemplate: PlainHTTPRequestTemplate?

    /// Creates the adapter for `config`.
    public init(config: ProviderConfig, context: ProviderContext) {
        self.name = config.name
        self.chatCompletionsURL = Self.apiRoot(config.baseURL) + "/chat/completions"
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        if let apiKey = config.apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        for (field, value) in config.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: field, value: value) }
        self.maxResponseBytes = context.gatewayConfig.server.maxResponseBytes
        self.upstream = UpstreamHTTPClient(
            providerName: config.name,
            client: context.httpClient,
            headers: headers,
            maxResponseBytes: context.gatewayConfig.server.maxResponseBytes
        )
        self.plainHTTPClient = context.plainHTTPClient
        var plainHeaders = headers
        plainHeaders.add(name: "accept", value: "application/json")
        self.plainRequestTemplate = PlainHTTPEndpoint(chatCompletionsURL).flatMap {
            PlainHTTPRequestTemplate(endpoint: $0, headers: plainHeaders)
        }
    }

    /// The API root with no trailing slash; a URL with no path gets `/v1`.
    static func apiRoot(_ baseURL: String) -> String {
        var root = baseURL
        while root.hasSuffix("/") { root.removeLast() }
        let afterScheme = root.range(of: "://").map { root[$0.upperBound...] } ?? Substring(root)
        if !afterScheme.contains("/") { root += "/v1" }
        return root
    }

    /// Sends the request and returns the upstream's answer as is.
    public func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult {
        if let plainHTTPClient, let plainRequestTemplate {
            return try await completeOverPlainHTTP(call, client: plainHTTPClient, template: plainRequestTemplate)
        }
        let body = try await upstream.fetch(
            url: chatCompletionsURL,
            body: call.request.upstreamBody(model: call.upstreamModel),
            deadline: call.responseDeadline,
            logger: call.logger
        )
        return ChatCompletionResult(body: body)
    }

    private func completeOverPlainHTTP(
        _ call: ChatCompletionCall,
        client: PlainHTTPClient,
        template: PlainHTTPRequestTemplate
    ) async throws -> ChatCompletionResult {
        let response: PlainHTTPResponse
        do {
            response = try await client.post(
                template,
                body: call.request.upstreamBody(model: call.upstreamModel),
                deadline: call.responseDeadline,
                maxResponseBytes: maxResponseBytes
            )
        } catch {
            throw ProviderError.classify(error)
        }
        guard (200..<300).contains(response.status.code) else {
            throw ProviderError.upstreamStatus(HTTPResponse.Status(code: Int(response.status.code)), body: response.body, provider: name)
        }
        return ChatCompletionResult(body: response.body)
    }

    /// Sends the request with `stream: true` and returns its SSE events once the head has arrived.
    public func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream {
        let body = try await upstream.openStream(
            url: chatCompletionsURL,
            body: call.request.upstreamBody(model: call.upstreamModel),
            accept: "text/event-stream",
            deadline: call.responseDeadline,
            logger: call.logger
        )
        return ChatCompletionStream(events: TranslatedChatStream(units: SSEEventSequence(body), translator: OpenAIStreamTranslator()))
    }
}
