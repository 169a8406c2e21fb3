import AsyncHTTPClient
import HTTPTypes
import Logging
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
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
/// `headers` (map of extra headers), `options.stream_usage` (`"false"` for a server that refuses
/// `stream_options`: the gateway then does not ask it for a stream's usage, and estimates it).
public struct OpenAICompatibleProvider: LLMProvider {
    private let name: String
    private let upstream: UpstreamHTTPClient
    private let apiRoot: String
    private let chatCompletionsURL: String
    private let mapError: UpstreamHTTPClient.ErrorMapping?
    private let maxResponseBytes: Int
    private let plainHTTPClient: PlainHTTPClient?
    private let plainRequestTemplate: PlainHTTPRequestTemplate?
    /// Whether streams ask for their usage (`options.stream_usage`, default true).
    private let requestsStreamUsage: Bool

    /// Creates the adapter for `config`.
    public init(config: ProviderConfig, context: ProviderContext) {
        self.init(config: config, context: context, mapError: nil)
    }

    /// Creates the adapter for `config`, mapping non-2xx answers with `mapError` (for servers whose
    /// error bodies are not OpenAI's, such as TGI's).
    init(config: ProviderConfig, context: ProviderContext, mapError: UpstreamHTTPClient.ErrorMapping?) {
        self.name = config.name
        self.requestsStreamUsage = config.options["stream_usage"]?.lowercased() != "false"
        self.apiRoot = Self.apiRoot(config.baseURL)
        self.chatCompletionsURL = apiRoot + "/chat/completions"
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        if let apiKey = config.apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        for (field, value) in config.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: field, value: value) }
        self.maxResponseBytes = context.gatewayConfig.server.maxResponseBytes
        self.upstream = UpstreamHTTPClient(
            providerName: config.name,
            client: context.httpClient,
            headers: headers,
            maxResponseBytes: context.gatewayConfig.server.maxResponseBytes,
            mapError: mapError
        )
        self.mapError = mapError
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
            let status = HTTPResponse.Status(code: Int(response.status.code))
            let error = mapError?(status, response.body) ?? ProviderError.upstreamStatus(status, body: response.body, provider: name)
            throw error.readingRetryAfter(from: response.headers)
        }
        return ChatCompletionResult(body: response.body)
    }

    /// Sends the request with `stream: true` and returns its SSE events once the head has arrived.
    public func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream {
        let body = try await upstream.openStream(
            url: chatCompletionsURL,
            body: call.request.upstreamBody(model: call.upstreamModel, requestingUsage: requestsStreamUsage),
            accept: "text/event-stream",
            deadline: call.responseDeadline,
            logger: call.logger
        )
        return ChatCompletionStream(events: TranslatedChatStream(units: SSEEventSequence(body), translator: OpenAIStreamTranslator()))
    }

    /// Passes the embeddings request through to `{base_url}/embeddings`.
    public func embed(_ call: EmbeddingsCall) async throws -> EmbeddingsResult {
        let body = try await upstream.fetch(
            url: apiRoot + "/embeddings",
            body: call.request.upstreamBody(model: call.upstreamModel),
            deadline: call.responseDeadline,
            logger: call.logger
        )
        return .openAIBody(body)
    }

    /// The ids listed by `GET {base_url}/models`.
    public func discoverModels(deadline: NIODeadline, logger: Logger) async throws -> [String] {
        let body = try await upstream.fetch(.GET, url: apiRoot + "/models", deadline: deadline, logger: logger)
        return Self.modelIDs(inList: body)
    }

    /// The `data[].id` values of an OpenAI model list; empty when the body is not one.
    static func modelIDs(inList body: ByteBuffer) -> [String] {
        guard let list = try? JSONValue.parse(body), let data = list["data"]?.arrayValue else { return [] }
        return data.compactMap { $0["id"]?.stringValue }
    }
}
