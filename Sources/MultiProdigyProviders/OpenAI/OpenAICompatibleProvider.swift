import HTTPTypes
import Logging
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore
import NIOHTTP1

/// Speaks to OpenAI and every OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama's `/v1`,
/// TGI's Messages API) by passing the client's request through.
///
/// The body goes upstream as the client sent it, with only `model` rewritten and the gateway's
/// `multiprodigy` field removed; the answer comes back as is. Requests in OpenAI's Responses API are
/// passed through the same way to `{base_url}/responses` (``nativeAPIs``), unless
/// `options.responses_api` is `translate`.
///
/// Configuration keys: `base_url` (String, default `https://api.openai.com/v1`; a bare
/// `http://host:port` gets `/v1` appended), `api_key` (String, sent as `Authorization: Bearer`),
/// `headers` (map of extra headers), and `options` (see ``optionSchema``):
/// - `stream_usage` (boolean, default `true`; `false` for a server that refuses `stream_options`:
///   the gateway then does not ask it for a stream's usage, and estimates it);
/// - `responses_api` (`native` or `translate`, default `native`): `native` sends Responses requests
///   to the server's own `/responses`; `translate` turns them into chat completions, for servers
///   that do not serve the Responses API.
///
/// ```yaml
/// providers:
///   vllm: {type: openai, base_url: "http://127.0.0.1:8000/v1", options: {responses_api: translate}}
/// ```
public struct OpenAICompatibleProvider: LLMProvider {
    /// The `options:` an `openai` provider accepts.
    public static let optionSchema: ProviderOptionSchema = [
        ProviderOptionSpec(
            "stream_usage",
            .bool,
            default: "true",
            summary: "ask streams for their usage with `stream_options`; false for a server that refuses it (usage is then estimated)"
        ),
        ProviderOptionSpec(
            "responses_api",
            .oneOf(["native", "translate"]),
            default: "native",
            summary: "Responses API requests go to the server's own `/responses` (native) or are translated to chat (translate)"
        ),
    ]

    /// How `base_url` becomes the root `/chat/completions` is appended to: a URL with no path gets `/v1`.
    static let baseURLNormalization = BaseURLNormalization.defaultingPath("/v1")

    private let name: String
    private let upstream: UpstreamHTTPClient
    private let apiRoot: String
    private let chatCompletionsURL: String
    private let responsesURL: String
    /// Whether streams ask for their usage (`options.stream_usage`, default true).
    private let requestsStreamUsage: Bool

    /// The APIs passed through: the Responses API unless `options.responses_api` is `translate`.
    public let nativeAPIs: Set<NativeAPI>

    /// Creates the adapter for `config`.
    ///
    /// - Throws: ``ConfigError`` when `options:` holds an unknown option or a value of the wrong kind.
    public init(config: ProviderConfig, context: ProviderContext) throws {
        let options = try Self.optionSchema.validate(config.options, provider: config.name, type: config.type)
        let nativeAPIs: Set<NativeAPI> = options.string("responses_api") == "translate" ? [] : [.responses]
        try self.init(config: config, options: options, context: context, mapError: nil, nativeAPIs: nativeAPIs)
    }

    /// Creates the adapter for `config` with its typed `options`, mapping non-2xx answers with
    /// `mapError` (for servers whose error bodies are not OpenAI's, such as TGI's) and passing
    /// `nativeAPIs` through (none for servers that serve chat alone, such as TGI).
    ///
    /// - Throws: ``ConfigError`` when `ca_file` cannot be used.
    init(
        config: ProviderConfig,
        options: ProviderOptions,
        context: ProviderContext,
        mapError: UpstreamHTTPClient.ErrorMapping?,
        nativeAPIs: Set<NativeAPI>
    ) throws {
        self.name = config.name
        self.nativeAPIs = nativeAPIs
        self.requestsStreamUsage = options.bool("stream_usage") ?? true
        self.apiRoot = Self.baseURLNormalization.apiRoot(from: config.baseURL)
        self.chatCompletionsURL = apiRoot + "/chat/completions"
        self.responsesURL = apiRoot + "/responses"
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        if let apiKey = config.apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        for (field, value) in config.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: field, value: value) }
        self.upstream = try UpstreamHTTPClient(config: config, context: context, headers: headers, mapError: mapError)
    }

    /// Sends the request and returns the upstream's answer as is.
    public func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult {
        let body = try await upstream.fetch(
            url: chatCompletionsURL,
            body: call.request.upstreamBody(model: call.upstreamModel),
            deadline: call.responseDeadline,
            logger: call.logger
        )
        return ChatCompletionResult(body: body)
    }

    /// Passes a Responses request through to `{base_url}/responses` and returns the answer as is.
    ///
    /// - Throws: ``ProviderError``: the upstream's errors as for chat; kind `unsupported` for an API
    ///   not in ``nativeAPIs``.
    public func completeNative(_ call: NativeCall) async throws -> ByteBuffer {
        guard call.request.api == .responses, nativeAPIs.contains(.responses) else {
            throw ProviderError.nativeAPIUnsupported(call.request.api)
        }
        do {
            return try await upstream.fetch(
                url: responsesURL,
                body: call.request.upstreamBody(model: call.upstreamModel),
                deadline: call.responseDeadline,
                logger: call.logger
            )
        } catch {
            throw Self.responsesUnavailable(error)
        }
    }

    /// A server without the Responses API answers `/responses` with 404 or 405: that is this
    /// provider's limit, not the client's mistake, so it fails as `unsupported` (the gateway then
    /// asks the same target through chat); any other error is `error` itself.
    static func responsesUnavailable(_ error: any Error) -> any Error {
        guard let failure = error as? ProviderError, let status = failure.upstreamStatus, status == 404 || status == 405 else {
            return error
        }
        return ProviderError(
            kind: .unsupported,
            message:
                "the upstream answered \(status) to /responses: it does not serve the Responses API (set options.responses_api: translate)",
            upstreamError: failure.upstreamError,
            upstreamStatus: status
        )
    }

    /// Passes a streaming Responses request through to `{base_url}/responses` and returns its events
    /// unchanged once the head has arrived.
    ///
    /// - Throws: ``ProviderError``: the upstream's errors as for chat; kind `unsupported` for an API
    ///   not in ``nativeAPIs``.
    public func streamNative(_ call: NativeCall) async throws -> NativeEventStream {
        guard call.request.api == .responses, nativeAPIs.contains(.responses) else {
            throw ProviderError.nativeAPIUnsupported(call.request.api)
        }
        let body: UpstreamResponseBody
        do {
            body = try await upstream.openStream(
                url: responsesURL,
                body: call.request.upstreamBody(model: call.upstreamModel),
                accept: "text/event-stream",
                deadline: call.responseDeadline,
                logger: call.logger
            )
        } catch {
            throw Self.responsesUnavailable(error)
        }
        return NativeEventStream(events: SSEEventSequence(body), stop: body.stop, release: body.release)
    }

    /// Sends the request with `stream: true` and returns its SSE events once the head has arrived.
    ///
    /// A server that ignores `stream` and answers with one JSON body (`content-type:
    /// application/json`) gets the answer read whole and relayed as the chunks of the same answer.
    public func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream {
        let response = try await upstream.openStreamResponse(
            url: chatCompletionsURL,
            body: call.request.upstreamBody(model: call.upstreamModel, requestingUsage: requestsStreamUsage),
            accept: "text/event-stream",
            deadline: call.responseDeadline,
            logger: call.logger
        )
        let body = response.body
        if Self.isWholeJSONAnswer(response.headers) {
            let events = WholeAnswerEvents(body: body, maximumBytes: upstream.maximumResponseBytes)
            return ChatCompletionStream(events: events, stop: body.stop, release: body.release)
        }
        let translated = TranslatedChatStream(units: SSEEventSequence(body), translator: OpenAIStreamTranslator())
        return ChatCompletionStream(events: translated, stop: body.stop, release: body.release)
    }

    /// Whether a stream request was answered with one JSON body rather than events.
    static func isWholeJSONAnswer(_ headers: HTTPHeaders) -> Bool {
        guard let type = headers.first(name: "content-type")?.lowercased() else { return false }
        return type.hasPrefix("application/json")
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
