import Foundation
import Logging
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore
import NIOHTTP1

/// Speaks Anthropic's native Messages API (`type: anthropic`).
///
/// Chat completions go to `POST {base_url}/v1/messages`, translated both ways (see
/// ``AnthropicRequestTranslator``, ``AnthropicResponseTranslator`` and ``AnthropicStreamTranslator``);
/// `GET /v1/models` lists its models. Embeddings are not offered by Anthropic.
///
/// Configuration keys:
/// - `base_url` (String, default `https://api.anthropic.com`): the API root; a trailing slash or a
///   trailing `/v1` is accepted.
/// - `api_key` (String): sent as `x-api-key`.
/// - `headers` (map): extra headers, such as `anthropic-beta`; they override the adapter's own.
/// - `options.anthropic_version` (String, default `2023-06-01`): the `anthropic-version` header.
/// - `options.default_max_tokens` (positive integer, default `4096`): `max_tokens` for requests that
///   give neither `max_tokens` nor `max_completion_tokens` (Anthropic requires one).
struct AnthropicProvider: LLMProvider {
    /// The default `base_url`.
    package static let defaultBaseURL = "https://api.anthropic.com"
    /// The default `anthropic-version` header.
    static let defaultVersion = "2023-06-01"
    /// The default `max_tokens`.
    static let defaultMaxTokens = 4096

    private let name: String
    private let upstream: UpstreamHTTPClient
    private let messagesURL: String
    private let modelsURL: String
    private let maxTokens: Int

    /// Creates the adapter for `config`.
    ///
    /// - Throws: ``ConfigError`` when an option has an invalid value.
    init(config: ProviderConfig, context: ProviderContext) throws {
        self.name = config.name
        let root = Self.apiRoot(config.baseURL)
        self.messagesURL = root + "/v1/messages"
        self.modelsURL = root + "/v1/models"
        let options = try Self.options(config)
        self.maxTokens = options.maxTokens
        var headers = HTTPHeaders()
        if let apiKey = config.apiKey { headers.add(name: "x-api-key", value: apiKey) }
        headers.add(name: "anthropic-version", value: options.version)
        for (field, value) in config.headers.sorted(by: { $0.key < $1.key }) { headers.replaceOrAdd(name: field, value: value) }
        let providerName = config.name
        self.upstream = UpstreamHTTPClient(
            providerName: providerName,
            client: context.httpClient,
            headers: headers,
            maxResponseBytes: context.gatewayConfig.server.maxResponseBytes,
            mapError: { status, body in AnthropicErrorMapping.error(status: status, body: body, provider: providerName) }
        )
    }

    /// The API root without a trailing slash or `/v1`.
    static func apiRoot(_ baseURL: String) -> String {
        var root = baseURL
        while root.hasSuffix("/") { root.removeLast() }
        if root.hasSuffix("/v1") { root.removeLast(3) }
        while root.hasSuffix("/") { root.removeLast() }
        return root
    }

    private static func options(_ config: ProviderConfig) throws -> (version: String, maxTokens: Int) {
        var issues: [ConfigIssue] = []
        let path = "providers.\(config.name).options"
        let version = config.options["anthropic_version"] ?? defaultVersion
        if version.trimmingWhitespace().isEmpty {
            issues.append(
                ConfigIssue(
                    path: "\(path).anthropic_version",
                    line: nil,
                    problem: "anthropic_version is empty",
                    fix: "set it to a version date such as \(defaultVersion), or remove it"
                )
            )
        }
        var maxTokens = defaultMaxTokens
        if let text = config.options["default_max_tokens"] {
            if let value = Int(text.trimmingWhitespace()), value > 0 {
                maxTokens = value
            } else {
                issues.append(
                    ConfigIssue(
                        path: "\(path).default_max_tokens",
                        line: nil,
                        problem: "'\(text)' is not a positive whole number",
                        fix: "give the number of tokens, such as \(defaultMaxTokens)"
                    )
                )
            }
        }
        guard issues.isEmpty else { throw ConfigError(source: "providers.\(config.name)", issues: issues) }
        return (version, maxTokens)
    }

    /// Sends the translated request and translates Anthropic's `Message` back.
    package func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult {
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
    package func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream {
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
        return ChatCompletionStream(events: TranslatedChatStream(units: SSEEventSequence(body), translator: translator))
    }

    /// The ids of `GET /v1/models`, following its pages.
    package func discoverModels(deadline: NIODeadline, logger: Logger) async throws -> [String] {
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
