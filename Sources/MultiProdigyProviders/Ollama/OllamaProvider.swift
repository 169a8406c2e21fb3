import AsyncHTTPClient
import Foundation
import Logging
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore
import NIOHTTP1

/// Speaks Ollama's native API: chat through `POST /api/chat` (NDJSON when streaming), embeddings
/// through `POST /api/embed`, model discovery through `GET /api/tags`.
///
/// Unlike Ollama's OpenAI-compatible `/v1`, the native API lets the gateway set the context window
/// (`num_ctx`) and keeps the Modelfile's sampling defaults when the client sends none.
///
/// Configuration keys: `base_url` (String, default `http://127.0.0.1:11434`; the server's root, a
/// trailing `/` or `/v1` is dropped), `api_key` (String, optional, sent as `Authorization: Bearer`
/// for ollama.com or an authenticating proxy), `headers` (map of extra headers), and `options:`
/// `num_ctx`, `keep_alive`, `truncate` (see ``OllamaSettings``).
///
/// ```yaml
/// providers:
///   local: {type: ollama, options: {num_ctx: 8192, keep_alive: 30m}}
/// models:
///   llama: {provider: local, model: "llama3.2:3b"}
/// ```
public struct OllamaProvider: LLMProvider {
    /// The base URL used when the config gives none.
    public static let defaultBaseURL = "http://127.0.0.1:11434"

    private let name: String
    private let root: String
    private let httpClient: HTTPClient
    private let headers: HTTPHeaders
    private let maxResponseBytes: Int
    private let settings: OllamaSettings

    /// Creates the adapter for `config`.
    ///
    /// - Throws: ``ConfigError`` when `options:` holds an unknown key or a bad value.
    public init(config: ProviderConfig, context: ProviderContext) throws {
        self.name = config.name
        self.root = Self.serverRoot(config.baseURL)
        self.httpClient = context.httpClient
        self.maxResponseBytes = context.gatewayConfig.server.maxResponseBytes
        self.settings = try OllamaSettings.parse(config.options, provider: config.name)
        var headers = HTTPHeaders()
        if let apiKey = config.apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        for (field, value) in config.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: field, value: value) }
        self.headers = headers
    }

    /// The server's root without a trailing slash; a `/v1` (Ollama's OpenAI-compatible API) or
    /// `/api` suffix is dropped, as the native paths start at the root.
    static func serverRoot(_ baseURL: String) -> String {
        var root = baseURL
        while root.hasSuffix("/") { root.removeLast() }
        for suffix in ["/v1", "/api"] where root.hasSuffix(suffix) {
            root.removeLast(suffix.count)
            while root.hasSuffix("/") { root.removeLast() }
        }
        return root
    }

    /// A client whose errors name `model` (for the `ollama pull` hint) and `path`.
    private func upstream(model: String?, path: String) -> UpstreamHTTPClient {
        let provider = name
        return UpstreamHTTPClient(
            providerName: name,
            client: httpClient,
            headers: headers,
            maxResponseBytes: maxResponseBytes,
            mapError: { status, body in OllamaErrorMapping.error(status: status, body: body, provider: provider, model: model, path: path) }
        )
    }

    private func chatBody(_ call: ChatCompletionCall, stream: Bool) throws -> ByteBuffer {
        let request: JSONValue
        do {
            request = try JSONValue.parse(call.request.body)
        } catch {
            // The gateway validated the body already; this cannot happen short of a bug.
            throw ProviderError(
                kind: .client,
                message: "the request body is not valid JSON",
                upstreamError: .invalidRequest("The request body is not valid JSON.")
            )
        }
        do {
            return try OllamaRequestTranslation.chatRequest(from: request, model: call.upstreamModel, stream: stream, settings: settings)
                .buffer
        } catch {
            throw ProviderError.translationRefusal(error)
        }
    }

    /// Sends the chat with `"stream": false` and translates Ollama's answer.
    public func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult {
        let body = try chatBody(call, stream: false)
        let answer = try await upstream(model: call.upstreamModel, path: "/api/chat").fetch(
            url: root + "/api/chat",
            body: body,
            deadline: call.responseDeadline,
            logger: call.logger
        )
        let json = try Self.parseAnswer(answer)
        if let error = json["error"], !error.isNull { throw OllamaStreamTranslator.streamError(error) }
        let completion = try OllamaResponseTranslation.completion(
            from: json,
            id: Self.completionID(),
            created: Self.now(),
            model: call.upstreamModel
        )
        return ChatCompletionResult(body: completion.buffer)
    }

    /// Sends the chat with `"stream": true` and returns its NDJSON lines as OpenAI chunks.
    public func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream {
        let body = try chatBody(call, stream: true)
        let lines = try await upstream(model: call.upstreamModel, path: "/api/chat").openStream(
            url: root + "/api/chat",
            body: body,
            accept: "application/x-ndjson",
            deadline: call.responseDeadline,
            logger: call.logger
        )
        let translator = OllamaStreamTranslator(
            id: Self.completionID(),
            created: Self.now(),
            model: call.upstreamModel,
            includeUsage: true
        )
        return ChatCompletionStream(events: TranslatedChatStream(units: JSONLineSequence(lines), translator: translator))
    }

    /// Embeds text inputs through `POST /api/embed`.
    public func embed(_ call: EmbeddingsCall) async throws -> EmbeddingsResult {
        let body: JSONValue
        do {
            body = try OllamaEmbeddingsTranslation.request(call.request, model: call.upstreamModel, settings: settings)
        } catch {
            throw ProviderError.translationRefusal(error)
        }
        let answer = try await upstream(model: call.upstreamModel, path: "/api/embed").fetch(
            url: root + "/api/embed",
            body: body.buffer,
            deadline: call.responseDeadline,
            logger: call.logger
        )
        return try OllamaEmbeddingsTranslation.result(from: Self.parseAnswer(answer), inputCount: call.request.inputs.count)
    }

    /// The installed models, from `GET /api/tags`.
    public func discoverModels(deadline: NIODeadline, logger: Logger) async throws -> [String] {
        let answer = try await upstream(model: nil, path: "/api/tags").fetch(
            .GET,
            url: root + "/api/tags",
            deadline: deadline,
            logger: logger
        )
        return try OllamaResponseTranslation.modelNames(from: Self.parseAnswer(answer))
    }

    /// `GET /api/tags`: Ollama is up when it lists its models.
    public func probe(deadline: NIODeadline, logger: Logger) async -> ProviderProbe? {
        do {
            _ = try await discoverModels(deadline: deadline, logger: logger)
            return ProviderProbe(isHealthy: true)
        } catch {
            return ProviderProbe(isHealthy: false, detail: ProviderError.classify(error).message)
        }
    }

    private static func parseAnswer(_ body: ByteBuffer) throws(ProviderError) -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch {
            throw ProviderError(
                kind: .protocolViolation,
                message: "Ollama's answer is not valid JSON (\(error.reason) at byte \(error.offset))"
            )
        }
    }

    private static let idCharacters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// `chatcmpl-` and 24 random letters and digits.
    static func completionID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "chatcmpl-" + String((0..<24).map { _ in idCharacters.randomElement(using: &generator)! })
    }

    private static func now() -> Int {
        Int(Date().timeIntervalSince1970)
    }
}
