import Foundation
import Logging
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore
import NIOHTTP1

/// Speaks Google's Gemini API (`generativelanguage.googleapis.com`) natively: chat completions via
/// `:generateContent` and `:streamGenerateContent?alt=sse`, embeddings via `:batchEmbedContents`,
/// and model discovery via `GET /v1beta/models`.
///
/// Requests and answers are translated both ways (see ``GeminiRequestTranslator``,
/// ``GeminiResponseTranslator``, ``GeminiStreamTranslator``); Gemini's errors become OpenAI's
/// envelope with the matching status.
///
/// Configuration keys:
/// - `base_url` (String, default `https://generativelanguage.googleapis.com`): the API root; a
///   trailing slash and a root that already ends in `/v1beta` (or `/v1`, `/v1alpha`) are accepted.
/// - `api_key` (String): sent as `x-goog-api-key`.
/// - `headers` (map): extra headers.
/// - `options` (see ``optionSchema``):
///   - `allow_remote_images` (boolean, default `false`): download `http(s)` image URLs in messages
///     (up to `max_remote_image_bytes`) and send them inline; when off such requests are answered
///     with a 400 that says how to send the image instead.
///   - `max_remote_image_bytes` (size, default 20 MiB): the largest image downloaded.
public struct GeminiProvider: LLMProvider {
    /// The `options:` a `gemini` provider accepts.
    public static let optionSchema: ProviderOptionSchema = [
        ProviderOptionSpec(
            "allow_remote_images",
            .bool,
            default: "false",
            summary: "download http(s) image URLs and send them inline (only for trusted clients: the gateway fetches any URL they give)"
        ),
        ProviderOptionSpec("max_remote_image_bytes", .byteSize, default: "20MiB", summary: "the largest remote image downloaded"),
    ]

    /// How `base_url` becomes the versioned root: `/v1beta` unless it names a version already.
    static let baseURLNormalization = BaseURLNormalization.versioned("/v1beta", accepting: ["v1beta", "v1", "v1alpha"])

    private let name: String
    private let versionedRoot: String
    private let upstream: UpstreamHTTPClient
    /// Downloads remote images: no credentials, and the system's trust roots (the images are on
    /// third-party servers, not the provider's).
    private let imageClient: UpstreamHTTPClient
    private let allowsRemoteImages: Bool
    private let maxRemoteImageBytes: Int
    /// The thought signatures of the tool calls this provider's answers carried: kept in the
    /// gateway's ``ProviderMemory``, so a reload does not forget them mid-conversation.
    private let toolCallMemory: GeminiToolCallMemory

    /// The default largest remote image downloaded: 20 MiB, Gemini's inline request limit.
    static let defaultMaxRemoteImageBytes = 20 << 20

    /// Creates the adapter for `config`.
    ///
    /// - Throws: ``ConfigError`` when `options:` holds an unknown option or a value of the wrong kind.
    public init(config: ProviderConfig, context: ProviderContext) throws {
        let options = try Self.optionSchema.validate(config.options, provider: config.name, type: config.type)
        self.name = config.name
        self.versionedRoot = Self.baseURLNormalization.apiRoot(from: config.baseURL)
        var headers = HTTPHeaders()
        if let apiKey = config.apiKey { headers.add(name: "x-goog-api-key", value: apiKey) }
        for (field, value) in config.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: field, value: value) }
        let providerName = config.name
        self.upstream = try UpstreamHTTPClient(
            config: config,
            context: context,
            headers: headers,
            mapError: { status, body in GeminiErrorMapping.error(status: status, body: body, provider: providerName) }
        )
        self.imageClient = try UpstreamHTTPClient(config: config, context: context, headers: [:], trustsSystemRoots: true)
        // Signatures are only valid where they were issued: one memory per provider and API root.
        self.toolCallMemory = context.memory.state(for: "gemini-tool-calls \(config.name) \(versionedRoot)") {
            GeminiToolCallMemory()
        }
        self.allowsRemoteImages = options.bool("allow_remote_images") ?? false
        self.maxRemoteImageBytes = options.integer("max_remote_image_bytes") ?? Self.defaultMaxRemoteImageBytes
    }

    /// The model id without a `models/` prefix.
    static func bareModelName(_ model: String) -> String {
        model.hasPrefix("models/") ? String(model.dropFirst("models/".count)) : model
    }

    /// Posts `body` to `model`'s `method` and parses the answer.
    ///
    /// - Throws: ``ProviderError``: the upstream's, or `protocol` when the answer is not JSON.
    private func fetchJSON<Request>(model: String, method: String, body: JSONValue, call: ProviderCall<Request>) async throws -> JSONValue {
        let answer = try await upstream.fetch(
            url: modelURL(model, method: method),
            body: body.buffer,
            deadline: call.responseDeadline,
            logger: call.logger
        )
        guard let response = try? JSONValue.parse(answer) else {
            throw ProviderError(kind: .protocolViolation, message: "\(name) answered with a body that is not JSON")
        }
        return response
    }

    private func modelURL(_ model: String, method: String) -> String {
        "\(versionedRoot)/models/\(URLPathEscaping.segment(Self.bareModelName(model))):\(method)"
    }

    // MARK: Chat

    /// Sends `:generateContent` and translates the answer.
    public func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult {
        let body = try await requestBody(for: call)
        let response = try await fetchJSON(model: call.upstreamModel, method: "generateContent", body: body, call: call)
        return ChatCompletionResult(body: try responseTranslator(for: call).translate(response).buffer)
    }

    /// Sends `:streamGenerateContent?alt=sse` and translates its events as they arrive.
    public func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream {
        let body = try await requestBody(for: call)
        let events = try await upstream.openStream(
            url: modelURL(call.upstreamModel, method: "streamGenerateContent") + "?alt=sse",
            body: body.buffer,
            accept: "text/event-stream",
            deadline: call.responseDeadline,
            logger: call.logger
        )
        let translator = GeminiStreamTranslator(
            providerName: name,
            includeUsage: true,
            choiceCount: call.request.choiceCount,
            responses: responseTranslator(for: call)
        )
        let translated = TranslatedChatStream(units: SSEEventSequence(events), translator: translator)
        return ChatCompletionStream(events: translated, stop: events.stop, release: events.release)
    }

    private func responseTranslator(for call: ChatCompletionCall) -> GeminiResponseTranslator {
        GeminiResponseTranslator(model: call.upstreamModel, choiceCount: call.request.choiceCount, toolCallMemory: toolCallMemory)
    }

    /// The Gemini body for `call`, with remote images downloaded first when allowed.
    private func requestBody(for call: ChatCompletionCall) async throws -> JSONValue {
        guard let request = try? JSONValue.parse(call.request.body) else {
            throw Self.clientError(.invalidRequest("We could not parse the JSON body of your request.", code: "invalid_json"))
        }
        var translator = GeminiRequestTranslator(providerName: name, toolCallMemory: toolCallMemory)
        if allowsRemoteImages {
            for url in GeminiRequestTranslator.remoteImageURLs(in: request) {
                translator.remoteImages[url] = try await downloadImage(url, deadline: call.responseDeadline, logger: call.logger)
            }
        }
        do {
            return try translator.translate(request)
        } catch {
            throw Self.clientError(error)
        }
    }

    private static func clientError(_ error: GatewayError) -> ProviderError {
        ProviderError.translationRefusal(error)
    }

    /// Downloads the image at `url` for inlining.
    ///
    /// - Throws: ``ProviderError`` of kind `client` (a 400 naming the URL) when it cannot be had.
    private func downloadImage(_ url: String, deadline: NIODeadline, logger: Logger) async throws -> GeminiRequestTranslator.InlineData {
        let shownURL = url.count > 200 ? url.prefix(200) + "…" : Substring(url)
        func failure(_ reason: String) -> ProviderError {
            Self.clientError(
                .invalidRequest(
                    "Could not download the image at \(shownURL): \(reason). Send it inline as a data URL (data:image/png;base64,…) instead.",
                    param: "messages",
                    code: "invalid_image_url"
                )
            )
        }
        let response: UpstreamHTTPClient.Response
        do {
            response = try await imageClient.send(.GET, url: url, body: nil, accept: "image/*", deadline: deadline, logger: logger)
        } catch {
            throw failure(ProviderError.classify(error).message)
        }
        guard (200..<300).contains(response.status.code) else { throw failure("HTTP \(response.status.code)") }
        let contentType = response.headers.first(name: "content-type")?.split(separator: ";").first.map {
            String($0).trimmingWhitespace().lowercased()
        }
        guard let contentType, contentType.hasPrefix("image/") else {
            throw failure("the server answered with content type \(contentType ?? "(none)"), not an image")
        }
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: maxRemoteImageBytes, by: deadline)
        } catch let error as ProviderError where error.kind == .protocolViolation {
            throw failure("it is larger than \(maxRemoteImageBytes) bytes")
        } catch {
            throw failure(ProviderError.classify(error).message)
        }
        return GeminiRequestTranslator.InlineData(mimeType: contentType, base64: Data(bytes.readableBytesView).base64EncodedString())
    }

    // MARK: Embeddings and models

    /// Embeds the call's texts with `:batchEmbedContents`.
    public func embed(_ call: EmbeddingsCall) async throws -> EmbeddingsResult {
        let body: JSONValue
        do {
            body = try GeminiEmbeddingsTranslator.request(for: call.request, model: call.upstreamModel)
        } catch {
            throw Self.clientError(error)
        }
        // Gemini takes at most 100 inputs per batch: larger requests go as several batches, in order.
        let requests = body["requests"]?.arrayValue ?? []
        var vectors: [[Float]] = []
        vectors.reserveCapacity(requests.count)
        for start in stride(from: 0, to: requests.count, by: Self.maximumEmbeddingsBatch) {
            let batch = Array(requests[start..<min(start + Self.maximumEmbeddingsBatch, requests.count)])
            let batchBody: JSONValue = ["requests": .array(batch)]
            let response = try await fetchJSON(model: call.upstreamModel, method: "batchEmbedContents", body: batchBody, call: call)
            vectors += try GeminiEmbeddingsTranslator.vectors(from: response, expectedCount: batch.count)
        }
        return .vectors(vectors, promptTokens: nil)
    }

    /// The most inputs Gemini accepts in one `:batchEmbedContents` call.
    static let maximumEmbeddingsBatch = 100

    /// The most pages of `GET /models` read.
    static let maximumModelPages = 5

    /// Lists the models that can chat or embed, following `nextPageToken` for a few pages.
    public func discoverModels(deadline: NIODeadline, logger: Logger) async throws -> [String] {
        var names: [String] = []
        var pageToken: String?
        for _ in 0..<Self.maximumModelPages {
            var url = "\(versionedRoot)/models?pageSize=1000"
            if let pageToken {
                var allowed = CharacterSet.alphanumerics
                allowed.insert(charactersIn: "-._~")
                url += "&pageToken=" + (pageToken.addingPercentEncoding(withAllowedCharacters: allowed) ?? pageToken)
            }
            let answer = try await upstream.fetch(.GET, url: url, deadline: deadline, logger: logger)
            guard let response = try? JSONValue.parse(answer) else {
                throw ProviderError(kind: .protocolViolation, message: "\(name) answered the model list with a body that is not JSON")
            }
            let page = GeminiModelList(response)
            names.append(contentsOf: page.names)
            guard let next = page.nextPageToken else { break }
            pageToken = next
        }
        return names
    }
}
