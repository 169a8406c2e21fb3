import Logging
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore
import NIOHTTP1

/// Speaks to Hugging Face: TGI and the HF router through their OpenAI-compatible Messages API,
/// TEI (and the router's feature-extraction task) for embeddings.
///
/// Configuration keys: `base_url` (the OpenAI-compatible root with its `/v1`, such as
/// `http://127.0.0.1:8080/v1` for TGI or `https://router.huggingface.co/v1`; a bare
/// `http://host:port` gets `/v1`), `api_key` (sent as `Authorization: Bearer`), `headers`.
///
/// Chat goes through the Messages API in OpenAI's dialect: for TGI, `max_completion_tokens` and
/// `json_schema` response formats are rewritten into TGI's forms; answers get an id, OpenAI finish
/// reasons (`stop_sequence` → `stop`, `tool_calls` when a tool was called) and `content: null` on
/// tool calls. Hugging Face's error shapes are mapped: 422 validation
/// → 400, 424 generation failure → 502 (fails over), 429 overloaded, 503 model loading (fails over,
/// with the estimated time). Embeddings go to TEI's `POST /embed` beside the `/v1` root, or for the
/// router to `/hf-inference/models/{model}/pipeline/feature-extraction`. Model discovery reads the
/// router's `/v1/models`, or a TGI/TEI server's `/info`. It takes no `options:` (``optionSchema``).
public struct HuggingFaceProvider: LLMProvider {
    /// The `options:` a `huggingface` provider accepts: none.
    public static let optionSchema: ProviderOptionSchema = []

    private let chat: OpenAICompatibleProvider
    private let upstream: UpstreamHTTPClient
    private let apiRoot: String
    private let serverRoot: String
    private let isRouter: Bool

    /// Creates the adapter for `config`.
    ///
    /// - Throws: ``ConfigError`` when `options:` holds any option.
    public init(config: ProviderConfig, context: ProviderContext) throws {
        let name = config.name
        let options = try Self.optionSchema.validate(config.options, provider: config.name, type: config.type)
        let mapError: UpstreamHTTPClient.ErrorMapping = { status, body in
            HuggingFaceErrorMapping.map(status: status, body: body, provider: name)
        }
        // TGI and TEI serve chat alone: no Responses API is passed through, so such requests are
        // translated through chat.
        self.chat = try OpenAICompatibleProvider(config: config, options: options, context: context, mapError: mapError, nativeAPIs: [])
        let apiRoot = OpenAICompatibleProvider.baseURLNormalization.apiRoot(from: config.baseURL)
        self.apiRoot = apiRoot
        // TEI's `/embed`, `/info` and `/health` sit beside the `/v1` root.
        self.serverRoot = BaseURLNormalization.strippingSuffixes(["/v1"]).apiRoot(from: apiRoot)
        self.isRouter = apiRoot.contains("://router.huggingface.co")
        var headers = HTTPHeaders()
        if let apiKey = config.apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        for (field, value) in config.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: field, value: value) }
        self.upstream = try UpstreamHTTPClient(config: config, context: context, headers: headers, mapError: mapError)
    }

    /// Answers through the Messages API (`/v1/chat/completions`), in OpenAI's dialect.
    public func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult {
        let answer = try await chat.complete(try tgiCall(call))
        return ChatCompletionResult(body: HuggingFaceResponseTranslator.completion(from: answer.body))
    }

    /// Streams through the Messages API (`/v1/chat/completions`), in OpenAI's dialect.
    public func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream {
        let call = try tgiCall(call)
        let body = try await upstream.openStream(
            url: apiRoot + "/chat/completions",
            body: call.request.upstreamBody(model: call.upstreamModel),
            accept: "text/event-stream",
            deadline: call.responseDeadline,
            logger: call.logger
        )
        let translated = TranslatedChatStream(units: SSEEventSequence(body), translator: HuggingFaceStreamTranslator())
        return ChatCompletionStream(events: translated, stop: body.stop, release: body.release)
    }

    /// The call with its body in TGI's dialect (the router's providers take OpenAI's as is).
    private func tgiCall(_ call: ChatCompletionCall) throws -> ChatCompletionCall {
        guard !isRouter, let body = HuggingFaceRequestTranslator.tgiRequest(from: call.request.body) else { return call }
        var call = call
        call.request = try ChatCompletionRequest.parse(body)
        return call
    }

    /// Embeds with TEI's `/embed`, or the router's feature-extraction task.
    public func embed(_ call: EmbeddingsCall) async throws -> EmbeddingsResult {
        let url =
            isRouter
            ? "\(serverRoot)/hf-inference/models/\(try URLPathEscaping.path(call.upstreamModel))/pipeline/feature-extraction"
            : "\(serverRoot)/embed"
        let answer = try await upstream.fetch(
            url: url,
            body: Self.embedBody(call.request).buffer,
            deadline: call.responseDeadline,
            logger: call.logger
        )
        guard let vectors = Self.vectors(in: answer) else {
            throw ProviderError(
                kind: .protocolViolation,
                message: "\(upstream.providerName) answered embeddings that are not arrays of numbers"
            )
        }
        return .vectors(vectors, promptTokens: nil)
    }

    /// The router's model list, or the model a TGI/TEI server says it serves.
    public func discoverModels(deadline: NIODeadline, logger: Logger) async throws -> [String] {
        if isRouter { return try await chat.discoverModels(deadline: deadline, logger: logger) }
        let info = try await upstream.fetch(.GET, url: "\(serverRoot)/info", deadline: deadline, logger: logger)
        return (try? JSONValue.parse(info))?["model_id"]?.stringValue.map { [$0] } ?? []
    }

    /// TGI's or TEI's `GET /health`, then `GET /info` for the longest input it accepts. The router
    /// has no health endpoint: nil.
    public func probe(deadline: NIODeadline, logger: Logger) async -> ProviderProbe? {
        guard !isRouter else { return nil }
        do {
            _ = try await upstream.fetch(.GET, url: "\(serverRoot)/health", deadline: deadline, logger: logger)
        } catch {
            return ProviderProbe(isHealthy: false, detail: ProviderError.classify(error).message)
        }
        let info = try? await upstream.fetch(.GET, url: "\(serverRoot)/info", deadline: deadline, logger: logger)
        let parsed = info.flatMap { try? JSONValue.parse($0) }
        let limit = parsed?["max_input_tokens"]?.intValue ?? parsed?["max_input_length"]?.intValue
        return ProviderProbe(isHealthy: true, maxInputTokens: limit)
    }

    /// TEI's `/embed` body: `inputs` (texts or token ids), `dimensions` when asked.
    static func embedBody(_ request: EmbeddingsRequest) -> JSONValue {
        let inputs: [JSONValue] = request.inputs.map { input in
            switch input {
            case .text(let text): .string(text)
            case .tokens(let tokens): .array(tokens.map { .integer($0) })
            }
        }
        var body: JSONValue = ["inputs": .array(inputs)]
        if let dimensions = request.dimensions { body["dimensions"] = .integer(dimensions) }
        return body
    }

    /// The vectors of a TEI-shaped answer: an array of arrays of numbers (or one flat array).
    static func vectors(in body: ByteBuffer) -> [[Float]]? {
        guard let answer = try? JSONValue.parse(body), let rows = answer.arrayValue else { return nil }
        if rows.first?.doubleValue != nil { return answer.floatArrayValue.map { [$0] } }
        var vectors: [[Float]] = []
        for row in rows {
            guard let vector = row.floatArrayValue else { return nil }
            vectors.append(vector)
        }
        return vectors
    }
}
