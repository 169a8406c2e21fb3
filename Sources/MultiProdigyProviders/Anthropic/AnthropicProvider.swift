import Foundation
import Logging
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore
import NIOHTTP1

/// Speaks Anthropic's native Messages API (`type: anthropic`).
///
/// Chat completions go to `POST {base_url}/v1/messages`, translated both ways (see
/// ``AnthropicRequestTranslator``, ``AnthropicResponseTranslator`` and ``AnthropicStreamTranslator``);
/// `GET /v1/models` lists its models. Embeddings are not offered by Anthropic.
///
/// Requests in Anthropic's own Messages API (``nativeAPIs``) are passed through instead: the
/// client's body goes to `{base_url}/v1/messages` (or `/v1/messages/count_tokens`) with only `model`
/// rewritten, so `cache_control`, signed thinking blocks, `top_k` and every other field arrive as
/// sent, and the answer (JSON or events) comes back unchanged. The client's `anthropic-version`
/// replaces the adapter's own unless `headers:` sets one (the operator's pin); the client's
/// `anthropic-beta` is sent after the one in `headers:`, if any, joined by a comma.
///
/// Configuration keys:
/// - `base_url` (String, default `https://api.anthropic.com`): the API root; a trailing slash or a
///   trailing `/v1` is accepted.
/// - `api_key` (String): sent as `x-api-key`.
/// - `headers` (map): extra headers, such as `anthropic-beta`; they override the adapter's own.
/// - `options` (see ``optionSchema``):
///   - `anthropic_version` (text, default `2023-06-01`): the `anthropic-version` header.
///   - `default_max_tokens` (positive integer, default `4096`): `max_tokens` for requests that
///     give neither `max_tokens` nor `max_completion_tokens` (Anthropic requires one).
///
/// ```yaml
/// providers:
///   claude: {type: anthropic, api_key: ${ANTHROPIC_API_KEY}, options: {default_max_tokens: 8192}}
/// ```
public struct AnthropicProvider: LLMProvider {
    /// The default `base_url`.
    public static let defaultBaseURL = "https://api.anthropic.com"
    /// The default `anthropic-version` header.
    static let defaultVersion = "2023-06-01"
    /// The default `max_tokens`.
    static let defaultMaxTokens = 4096

    /// The `options:` an `anthropic` provider accepts.
    public static let optionSchema: ProviderOptionSchema = [
        ProviderOptionSpec("anthropic_version", .string, default: defaultVersion, summary: "the `anthropic-version` header"),
        ProviderOptionSpec(
            "default_max_tokens",
            .positiveInteger,
            default: String(defaultMaxTokens),
            summary: "`max_tokens` for requests that set neither `max_tokens` nor `max_completion_tokens`"
        ),
    ]

    /// How `base_url` becomes the root `/v1/messages` is appended to: a trailing `/v1` is dropped.
    static let baseURLNormalization = BaseURLNormalization.strippingSuffixes(["/v1"])

    private let name: String
    private let upstream: UpstreamHTTPClient
    private let messagesURL: String
    private let countTokensURL: String
    private let modelsURL: String
    private let maxTokens: Int
    /// Whether `headers:` sets `anthropic-version`, which then wins over a client's.
    private let pinsVersion: Bool
    /// The `anthropic-beta` of `headers:`, which a client's is added to.
    private let configuredBeta: String?

    /// Anthropic's Messages API and its token counting, passed through.
    public var nativeAPIs: Set<NativeAPI> { [.messages, .messagesCountTokens] }

    /// Creates the adapter for `config`.
    ///
    /// - Throws: ``ConfigError`` when `options:` holds an unknown option or a value of the wrong kind.
    public init(config: ProviderConfig, context: ProviderContext) throws {
        self.name = config.name
        let root = Self.baseURLNormalization.apiRoot(from: config.baseURL)
        self.messagesURL = root + "/v1/messages"
        self.countTokensURL = root + "/v1/messages/count_tokens"
        self.modelsURL = root + "/v1/models"
        let options = try Self.optionSchema.validate(config.options, provider: config.name, type: config.type)
        self.maxTokens = options.integer("default_max_tokens") ?? Self.defaultMaxTokens
        var headers = HTTPHeaders()
        if let apiKey = config.apiKey { headers.add(name: "x-api-key", value: apiKey) }
        headers.add(name: "anthropic-version", value: options.string("anthropic_version") ?? Self.defaultVersion)
        for (field, value) in config.headers.sorted(by: { $0.key < $1.key }) { headers.replaceOrAdd(name: field, value: value) }
        self.pinsVersion = config.headers.keys.contains { $0.lowercased() == "anthropic-version" }
        self.configuredBeta = config.headers.first { $0.key.lowercased() == "anthropic-beta" }?.value
        let providerName = config.name
        let mapError: UpstreamHTTPClient.ErrorMapping = { status, body in
            AnthropicErrorMapping.error(status: status, body: body, provider: providerName)
        }
        headers.replaceOrAdd(name: "content-type", value: "application/json")
        self.upstream = try UpstreamHTTPClient(config: config, context: context, headers: headers, mapError: mapError)
    }

    /// Sends the translated request and translates Anthropic's `Message` back.
    public func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult {
        let answer = try await upstream.fetch(
            url: messagesURL,
            body: try requestBody(for: call, stream: false),
            deadline: call.responseDeadline,
            logger: call.logger
        )
        let completion = try AnthropicResponseTranslator.completion(from: answer, model: call.upstreamModel, created: Self.now())
        return ChatCompletionResult(body: completion.buffer)
    }

    /// Sends the translated request with `stream: true` and translates its events once the head has arrived.
    public func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream {
        let body = try await upstream.openStream(
            url: messagesURL,
            body: try requestBody(for: call, stream: true),
            accept: "text/event-stream",
            deadline: call.responseDeadline,
            logger: call.logger
        )
        let translator = AnthropicStreamTranslator(
            model: call.upstreamModel,
            includeUsage: true,
            providerName: name,
            created: Self.now()
        )
        return ChatCompletionStream(
            events: TranslatedChatStream(units: SSEEventSequence(body), translator: translator),
            stop: body.stop,
            release: body.release
        )
    }

    /// Passes a Messages (or count-tokens) request through and returns Anthropic's JSON unchanged.
    ///
    /// - Throws: ``ProviderError``: Anthropic's errors mapped as for chat; kind `unsupported` for an
    ///   API other than Anthropic's.
    public func completeNative(_ call: NativeCall) async throws -> ByteBuffer {
        let url: String
        switch call.request.api {
        case .messages: url = messagesURL
        case .messagesCountTokens: url = countTokensURL
        case .responses: throw ProviderError.nativeAPIUnsupported(call.request.api)
        }
        return try await upstream.fetch(
            url: url,
            body: call.request.upstreamBody(model: call.upstreamModel),
            headerOverrides: passedHeaders(of: call.request),
            deadline: call.responseDeadline,
            logger: call.logger
        )
    }

    /// Passes a streaming Messages request through and returns Anthropic's events unchanged, once
    /// the head has arrived.
    ///
    /// - Throws: ``ProviderError``: Anthropic's errors mapped as for chat; kind `unsupported` for an
    ///   API other than Messages (token counts are never streamed).
    public func streamNative(_ call: NativeCall) async throws -> NativeEventStream {
        guard call.request.api == .messages else { throw ProviderError.nativeAPIUnsupported(call.request.api) }
        let body = try await upstream.openStream(
            url: messagesURL,
            body: call.request.upstreamBody(model: call.upstreamModel),
            accept: "text/event-stream",
            headerOverrides: passedHeaders(of: call.request),
            deadline: call.responseDeadline,
            logger: call.logger
        )
        return NativeEventStream(events: SSEEventSequence(body), stop: body.stop, release: body.release)
    }

    /// The client's Anthropic headers as they go upstream: its `anthropic-version` unless
    /// `headers:` pins one, and its `anthropic-beta` after the configured one.
    func passedHeaders(of request: NativeRequest) -> HTTPHeaders {
        var passed = HTTPHeaders()
        if !pinsVersion, let version = request.passedHeaders["anthropic-version"] {
            passed.add(name: "anthropic-version", value: version)
        }
        if let beta = request.passedHeaders["anthropic-beta"] {
            passed.add(name: "anthropic-beta", value: Self.joinedBetas(configuredBeta, beta))
        }
        return passed
    }

    /// The beta flags of `configured` then those of `client`, each once, comma-separated.
    static func joinedBetas(_ configured: String?, _ client: String) -> String {
        var flags: [String] = []
        for list in [configured ?? "", client] {
            for flag in list.split(separator: ",") {
                let trimmed = flag.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty, !flags.contains(trimmed) { flags.append(trimmed) }
            }
        }
        return flags.joined(separator: ",")
    }

    /// The ids of `GET /v1/models`, following its pages.
    public func discoverModels(deadline: NIODeadline, logger: Logger) async throws -> [String] {
        var ids: [String] = []
        var after: String?
        // Anthropic pages its list; a bound keeps a misbehaving upstream from looping forever.
        for _ in 0..<20 {
            var url = modelsURL + "?limit=1000"
            if let after { url += "&after_id=" + (after.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? after) }
            let body = try await upstream.fetch(.GET, url: url, deadline: deadline, logger: logger)
            guard let page = try? JSONValue.parse(body), let data = page["data"]?.arrayValue else {
                throw ProviderError(kind: .protocolViolation, message: "\(name)'s model list is not the expected JSON")
            }
            ids += data.compactMap { $0["id"]?.stringValue }
            guard page["has_more"]?.boolValue == true, let last = page["last_id"]?.stringValue, last != after else { break }
            after = last
        }
        return ids
    }

    private func requestBody(for call: ChatCompletionCall, stream: Bool) throws(ProviderError) -> ByteBuffer {
        do {
            return try AnthropicRequestTranslator.request(
                from: call.request.body,
                model: call.upstreamModel,
                stream: stream,
                defaultMaxTokens: maxTokens
            ).buffer
        } catch {
            throw ProviderError.translationRefusal(error)
        }
    }

    private static func now() -> Int { Int(Date().timeIntervalSince1970) }
}
