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
    private let httpClient: HTTPClient
    private let chatCompletionsURL: String
    private let headers: HTTPHeaders
    private let maxResponseBytes: Int
    private let plainHTTPClient: PlainHTTPClient?
    private let plainRequestTemplate: PlainHTTPRequestTemplate?

    /// Creates the adapter for `config`.
    public init(config: ProviderConfig, context: ProviderContext) {
        self.name = config.name
        self.httpClient = context.httpClient
        self.chatCompletionsURL = Self.apiRoot(config.baseURL) + "/chat/completions"
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        if let apiKey = config.apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        for (field, value) in config.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: field, value: value) }
        self.headers = headers
        self.maxResponseBytes = context.gatewayConfig.server.maxResponseBytes
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
        let response = try await send(call, accept: "application/json")
        // The deadline given to `execute` covers only the response head; the body must arrive by
        // it too, or a trickling upstream could hold the call far past its budget.
        let body = try await Self.collect(response.body, upTo: maxResponseBytes, by: call.responseDeadline)
        guard (200..<300).contains(response.status.code) else {
            throw ProviderError.upstreamStatus(HTTPResponse.Status(code: Int(response.status.code)), body: body, provider: name)
        }
        return ChatCompletionResult(body: body)
    }

    /// Collects `body`, giving up with a timeout at `deadline`.
    static func collect(_ body: HTTPClientResponse.Body, upTo limit: Int, by deadline: NIODeadline) async throws -> ByteBuffer {
        do {
            return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await body.collect(upTo: limit) }
                group.addTask {
                    let remaining = deadline - .now()
                    if remaining > .zero { try await Task.sleep(nanoseconds: UInt64(remaining.nanoseconds)) }
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let collected = first else {
                    throw ProviderError(kind: .timeout, message: "timed out waiting for the upstream's response")
                }
                return collected
            }
        } catch {
            throw ProviderError.classify(error)
        }
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
        let response = try await send(call, accept: "text/event-stream")
        guard (200..<300).contains(response.status.code) else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw ProviderError.upstreamStatus(HTTPResponse.Status(code: Int(response.status.code)), body: body, provider: name)
        }
        return ChatCompletionStream(events: OpenAIStreamEvents(body: response.body))
    }

    private func send(_ call: ChatCompletionCall, accept: String) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: chatCompletionsURL)
        request.method = .POST
        request.headers = headers
        request.headers.add(name: "accept", value: accept)
        let body = call.request.upstreamBody(model: call.upstreamModel)
        request.body = .bytes(body)
        do {
            // The client's own logging adds metadata per request; only pay for it when it can be seen.
            let clientLogger = call.logger.logLevel <= .debug ? call.logger : nil
            return try await httpClient.execute(request, deadline: call.responseDeadline, logger: clientLogger)
        } catch {
            throw ProviderError.classify(error)
        }
    }
}
