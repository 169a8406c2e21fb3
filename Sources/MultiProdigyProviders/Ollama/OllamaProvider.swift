import Foundation
import Logging
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
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
/// `num_ctx`, `keep_alive`, `truncate` (see ``optionSchema``).
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

    /// The `options:` an `ollama` provider accepts.
    public static let optionSchema: ProviderOptionSchema = [
        ProviderOptionSpec(
            "num_ctx",
            .positiveInteger,
            default: "the model's own",
            summary: "context window sent with every chat and embeddings call (Ollama's /v1 cannot set it)"
        ),
        ProviderOptionSpec(
            "keep_alive",
            .custom(
                expected: "a duration",
                example: "a duration such as `5m`, `1h` or `30s`, a number of seconds, `0` to unload at once or `-1` to keep loaded",
                parse: OllamaSettings.keepAlive
            ),
            default: "Ollama's (5m)",
            summary: "how long Ollama keeps the model loaded after a call"
        ),
        ProviderOptionSpec(
            "truncate",
            .bool,
            default: "Ollama's (true)",
            summary: "whether /api/embed truncates inputs longer than the context"
        ),
    ]

    /// How `base_url` becomes the server's root: a `/v1` (Ollama's OpenAI-compatible API) or `/api`
    /// suffix is dropped, as the native paths start at the root.
    static let baseURLNormalization = BaseURLNormalization.strippingSuffixes(["/v1", "/api"])

    private let name: String
    private let root: String
    /// The client; each call maps its errors with its model and path (``upstream(model:path:)``).
    private let client: UpstreamHTTPClient
    private let settings: OllamaSettings

    /// Creates the adapter for `config`.
    ///
    /// - Throws: ``ConfigError`` when `options:` holds an unknown option or a value of the wrong kind.
    public init(config: ProviderConfig, context: ProviderContext) throws {
        self.name = config.name
        self.root = Self.baseURLNormalization.apiRoot(from: config.baseURL)
        let options = try Self.optionSchema.validate(config.options, provider: config.name, type: config.type)
        self.settings = OllamaSettings(options: options)
        var headers = HTTPHeaders()
        if let apiKey = config.apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        for (field, value) in config.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: field, value: value) }
        self.client = try UpstreamHTTPClient(config: config, context: context, headers: headers)
    }

    /// A client whose errors name `model` (for the `ollama pull` hint) and `path`.
    private func upstream(model: String?, path: String) -> UpstreamHTTPClient {
        let provider = name
        return client.mappingErrors { status, body in
            OllamaErrorMapping.error(status: status, body: body, provider: provider, model: model, path: path)
        }
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
            return try OllamaRequestTranslator.chatRequest(from: request, model: call.upstreamModel, stream: stream, settings: settings)
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
        let completion = try OllamaResponseTranslator.completion(
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
        return ChatCompletionStream(
            events: TranslatedChatStream(units: JSONLineSequence(lines), translator: translator),
            stop: lines.stop,
            release: lines.release
        )
    }

    /// Embeds text inputs through `POST /api/embed`.
    public func embed(_ call: EmbeddingsCall) async throws -> EmbeddingsResult {
        let body: JSONValue
        do {
            body = try OllamaEmbeddingsTranslator.request(call.request, model: call.upstreamModel, settings: settings)
        } catch {
            throw ProviderError.translationRefusal(error)
        }
        let answer = try await upstream(model: call.upstreamModel, path: "/api/embed").fetch(
            url: root + "/api/embed",
            body: body.buffer,
            deadline: call.responseDeadline,
            logger: call.logger
        )
        return try OllamaEmbeddingsTranslator.result(from: Self.parseAnswer(answer), inputCount: call.request.inputs.count)
    }

    /// The installed models, from `GET /api/tags`.
    public func discoverModels(deadline: NIODeadline, logger: Logger) async throws -> [String] {
        let answer = try await upstream(model: nil, path: "/api/tags").fetch(
            .GET,
            url: root + "/api/tags",
            deadline: deadline,
            logger: logger
        )
        return try OllamaResponseTranslator.modelNames(from: Self.parseAnswer(answer))
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
