import AsyncHTTPClient
import HTTPTypes
import Logging
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore
import NIOHTTP1

/// Sends requests to one upstream through the gateway's shared AsyncHTTPClient and reports every
/// failure as a ``ProviderError``.
///
/// Adapters for native protocols (Gemini, Anthropic, Ollama, Hugging Face) share it: it applies the
/// provider's headers, bounds each answer by the gateway's `server.max_response_bytes`, makes the
/// whole body (not just its head) arrive by the call's deadline, and turns a non-2xx answer into a
/// ``ProviderError`` through the adapter's own error mapping.
public struct UpstreamHTTPClient: Sendable {
    /// Maps a non-2xx answer (status and body) to the error the gateway reports.
    public typealias ErrorMapping = @Sendable (HTTPResponse.Status, ByteBuffer) -> ProviderError

    /// The provider's name, for messages.
    public let providerName: String
    private let client: HTTPClient
    private let headers: HTTPHeaders
    private let maxResponseBytes: Int
    private let mapError: ErrorMapping

    /// Creates a client for one provider.
    ///
    /// - Parameters:
    ///   - providerName: The provider's name in the config, used in error messages.
    ///   - client: The gateway's shared HTTP client.
    ///   - headers: Headers sent with every request (credentials, API version, `headers:` from the config).
    ///   - maxResponseBytes: The largest answer accepted.
    ///   - mapError: Maps a non-2xx answer to an error; by default ``ProviderError/upstreamStatus(_:body:provider:)``.
    public init(
        providerName: String,
        client: HTTPClient,
        headers: HTTPHeaders,
        maxResponseBytes: Int,
        mapError: ErrorMapping? = nil
    ) {
        self.providerName = providerName
        self.client = client
        self.headers = headers
        self.maxResponseBytes = maxResponseBytes
        self.mapError = mapError ?? { status, body in ProviderError.upstreamStatus(status, body: body, provider: providerName) }
    }

    /// Sends a request and returns the whole 2xx answer body.
    ///
    /// - Parameter headerOverrides: Headers of this call alone (such as a client's `anthropic-beta`
    ///   passed through); each replaces the provider's header of the same name.
    /// - Throws: ``ProviderError`` for a network failure, a timeout at `deadline`, an oversize answer
    ///   or a non-2xx status.
    public func fetch(
        _ method: HTTPMethod = .POST,
        url: String,
        body: ByteBuffer? = nil,
        headerOverrides: HTTPHeaders = [:],
        deadline: NIODeadline,
        logger: Logger
    ) async throws -> ByteBuffer {
        let response = try await send(
            method,
            url: url,
            body: body,
            accept: "application/json",
            headerOverrides: headerOverrides,
            deadline: deadline,
            logger: logger
        )
        let collected = try await Self.collect(response.body, upTo: maxResponseBytes, by: deadline)
        guard (200..<300).contains(response.status.code) else {
            throw mapError(HTTPResponse.Status(code: Int(response.status.code)), collected).readingRetryAfter(from: response.headers)
        }
        return collected
    }

    /// Sends a request and returns the answer's body stream once a 2xx head has arrived.
    ///
    /// - Parameter headerOverrides: Headers of this call alone; each replaces the provider's header
    ///   of the same name.
    /// - Throws: ``ProviderError`` for a network failure, a timeout at `deadline` or a non-2xx status
    ///   (whose body is read, up to 1 MiB, for the error).
    public func openStream(
        url: String,
        body: ByteBuffer,
        accept: String,
        headerOverrides: HTTPHeaders = [:],
        deadline: NIODeadline,
        logger: Logger
    ) async throws -> HTTPClientResponse.Body {
        let response = try await send(
            .POST,
            url: url,
            body: body,
            accept: accept,
            headerOverrides: headerOverrides,
            deadline: deadline,
            logger: logger
        )
        guard (200..<300).contains(response.status.code) else {
            let collected = try await Self.collect(response.body, upTo: 1 << 20, by: deadline)
            throw mapError(HTTPResponse.Status(code: Int(response.status.code)), collected).readingRetryAfter(from: response.headers)
        }
        return response.body
    }

    /// Sends a request and returns the response head as soon as it arrives.
    ///
    /// - Parameter headerOverrides: Headers of this call alone; each replaces the provider's header
    ///   of the same name.
    /// - Throws: ``ProviderError`` for a network failure or a timeout at `deadline`.
    public func send(
        _ method: HTTPMethod,
        url: String,
        body: ByteBuffer?,
        accept: String,
        headerOverrides: HTTPHeaders = [:],
        deadline: NIODeadline,
        logger: Logger
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers = headers
        for (name, value) in headerOverrides { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.replaceOrAdd(name: "accept", value: accept)
        if let body {
            request.headers.replaceOrAdd(name: "content-type", value: "application/json")
            request.body = .bytes(body)
        }
        do {
            // The client's own logging adds metadata per request; only pay for it when it can be seen.
            let clientLogger = logger.logLevel <= .debug ? logger : nil
            return try await client.execute(request, deadline: deadline, logger: clientLogger)
        } catch {
            throw ProviderError.classify(error)
        }
    }

    /// Collects `body`, giving up with a timeout at `deadline`.
    ///
    /// The deadline given to `execute` covers only the response head; the body must arrive by it
    /// too, or a trickling upstream could hold the call far past its budget.
    static func collect(_ body: HTTPClientResponse.Body, upTo limit: Int, by deadline: NIODeadline) async throws -> ByteBuffer {
        do {
            return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await body.collect(upTo: limit) }
                group.addTask {
                    let remaining = deadline - .now()
                    // In slices (SlicedSleep): the body usually arrives long before the deadline.
                    if remaining > .zero { try await SlicedSleep.for(.nanoseconds(remaining.nanoseconds)) }
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
}
