import HTTPTypes
import Logging
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// Sends requests to one upstream through the gateway's ``UpstreamTransport`` and reports every
/// failure as a ``ProviderError``.
///
/// Every adapter shares it: it applies the provider's headers, verifies an `https` upstream against
/// the system's trust roots or the provider's `ca_file`, bounds each answer by the gateway's
/// `server.max_response_bytes`, makes the whole body (not just its head) arrive by the call's
/// deadline, and turns a non-2xx answer into a ``ProviderError`` through the adapter's own error
/// mapping.
///
/// ```swift
/// let upstream = try UpstreamHTTPClient(config: config, context: context, headers: ["authorization": "Bearer \(key)"])
/// let answer = try await upstream.fetch(url: config.baseURL + "/generate", body: body, deadline: deadline, logger: logger)
/// ```
public struct UpstreamHTTPClient: Sendable {
    /// Maps a non-2xx answer (status and body) to the error the gateway reports.
    public typealias ErrorMapping = @Sendable (HTTPResponse.Status, ByteBuffer) -> ProviderError

    /// An answer whose head has arrived: its status, headers, and body to read as it comes.
    public struct Response: Sendable {
        /// The status.
        public var status: HTTPResponseStatus
        /// The headers.
        public var headers: HTTPHeaders
        /// The body; read it to its end, or drop it to close the connection.
        public var body: UpstreamResponseBody
    }

    /// The provider's name, for messages.
    public let providerName: String
    private let transport: UpstreamTransport
    private let headers: HTTPHeaders
    private let tls: UpstreamTLS
    private let maxResponseBytes: Int
    private var mapError: ErrorMapping
    private let templates: TemplateCache

    /// Creates the client for the provider `config` describes.
    ///
    /// - Parameters:
    ///   - config: The provider's configuration: its name, and its `ca_file` for `https` upstreams.
    ///   - context: The gateway's transport and settings (`server.max_response_bytes`).
    ///   - headers: Headers sent with every request (credentials, API version, `headers:` from the config).
    ///   - trustsSystemRoots: Verify `https` upstreams against the system's trust roots even when the
    ///     provider has a `ca_file` (for calls to third parties, such as image downloads).
    ///   - mapError: Maps a non-2xx answer to an error; by default ``ProviderError/upstreamStatus(_:body:provider:)``.
    /// - Throws: ``ConfigError`` when `ca_file` cannot be used.
    public init(
        config: ProviderConfig,
        context: ProviderContext,
        headers: HTTPHeaders,
        trustsSystemRoots: Bool = false,
        mapError: ErrorMapping? = nil
    ) throws {
        let caFile = trustsSystemRoots ? nil : config.caFile
        do {
            self.tls = try context.transport.tls(caFile: caFile)
        } catch {
            throw ConfigError(
                source: "providers.\(config.name)",
                issues: [
                    ConfigIssue(
                        path: "providers.\(config.name).ca_file",
                        line: nil,
                        problem: "\(caFile ?? "the system's trust roots") cannot be used for TLS: \(error)",
                        fix: "give the path of a PEM file holding the CA certificates the upstream's certificate chains to"
                    )
                ]
            )
        }
        let providerName = config.name
        self.providerName = providerName
        self.transport = context.transport
        self.headers = headers
        self.maxResponseBytes = context.gatewayConfig.server.maxResponseBytes
        self.mapError = mapError ?? { status, body in ProviderError.upstreamStatus(status, body: body, provider: providerName) }
        self.templates = TemplateCache()
    }

    /// This client with non-2xx answers mapped by `mapError` instead (its connections and
    /// serialised requests shared).
    public func mappingErrors(with mapError: @escaping ErrorMapping) -> UpstreamHTTPClient {
        var copy = self
        copy.mapError = mapError
        return copy
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
        let template = try template(method, url: url, accept: "application/json", overrides: headerOverrides)
        let response: UpstreamCollectedResponse
        do {
            response = try await transport.collect(
                template,
                body: body,
                tls: template.endpoint.usesTLS ? tls : nil,
                deadline: deadline,
                maxResponseBytes: maxResponseBytes
            )
        } catch {
            throw Self.classify(error, logger: logger)
        }
        guard (200..<300).contains(response.status.code) else {
            throw mapError(HTTPResponse.Status(code: Int(response.status.code)), response.body).readingRetryAfter(from: response.headers)
        }
        return response.body
    }

    /// Sends a request and returns the answer's body once a 2xx head has arrived.
    ///
    /// `deadline` bounds the wait for the head; the caller times the body (see ``UpstreamResponseBody``).
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
    ) async throws -> UpstreamResponseBody {
        try await openStreamResponse(
            url: url,
            body: body,
            accept: accept,
            headerOverrides: headerOverrides,
            deadline: deadline,
            logger: logger
        ).body
    }

    /// As ``openStream(url:body:accept:headerOverrides:deadline:logger:)``, with the 2xx head's
    /// status and headers, for a caller that reads the body according to its `content-type`.
    public func openStreamResponse(
        url: String,
        body: ByteBuffer,
        accept: String,
        headerOverrides: HTTPHeaders = [:],
        deadline: NIODeadline,
        logger: Logger
    ) async throws -> Response {
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
            let collected = try await response.body.collect(upTo: 1 << 20, by: deadline)
            throw mapError(HTTPResponse.Status(code: Int(response.status.code)), collected).readingRetryAfter(from: response.headers)
        }
        return response
    }

    /// The most bytes a whole answer may have (`server.max_response_bytes`).
    public var maximumResponseBytes: Int { maxResponseBytes }

    /// Sends a request and returns the answer as soon as its head arrives, whatever its status.
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
    ) async throws -> Response {
        let template = try template(method, url: url, accept: accept, overrides: headerOverrides)
        do {
            let (head, body) = try await transport.open(
                template,
                body: body,
                tls: template.endpoint.usesTLS ? tls : nil,
                deadline: deadline
            )
            return Response(status: head.status, headers: head.headers, body: body)
        } catch {
            throw Self.classify(error, logger: logger)
        }
    }

    /// The serialised request for `method` to `url`: made once per URL and kept, unless the call
    /// has headers of its own.
    private func template(_ method: HTTPMethod, url: String, accept: String, overrides: HTTPHeaders) throws -> UpstreamRequestTemplate {
        let key = TemplateCache.Key(method: method.rawValue, url: url, accept: accept)
        if overrides.isEmpty, let cached = templates.entries.withLock({ $0[key] }) { return cached }
        guard let endpoint = UpstreamEndpoint(url) else {
            throw ProviderError(kind: .client, message: "the upstream URL of provider '\(providerName)' is not a valid http(s) URL")
        }
        var merged = headers
        for (name, value) in overrides { merged.replaceOrAdd(name: name, value: value) }
        merged.replaceOrAdd(name: "accept", value: accept)
        if method == .POST || method == .PUT || method == .PATCH {
            if !merged.contains(name: "content-type") { merged.add(name: "content-type", value: "application/json") }
        }
        guard let template = UpstreamRequestTemplate(method: method, endpoint: endpoint, headers: merged) else {
            throw ProviderError(
                kind: .client,
                message: "a header for provider '\(providerName)' holds a line break or an invalid name and cannot be sent"
            )
        }
        if overrides.isEmpty {
            templates.entries.withLock { entries in
                if entries.count < TemplateCache.capacity { entries[key] = template }
            }
        }
        return template
    }

    /// Classifies a transport failure: TLS failures by what went wrong, others as
    /// ``ProviderError/classify(_:)`` does.
    static func classify(_ error: any Error, logger: Logger) -> ProviderError {
        let classified: ProviderError
        if let error = error as? NIOSSLError, case .handshakeFailed = error {
            classified = ProviderError(kind: .connection, message: "the TLS handshake with the upstream failed (\(error))")
        } else if let error = error as? NIOSSLError {
            classified = ProviderError(kind: .connection, message: "the TLS connection to the upstream failed (\(error))")
        } else if let error = error as? NIOSSLExtraError {
            classified = ProviderError(kind: .connection, message: "the upstream's TLS certificate was refused (\(error))")
        } else {
            classified = ProviderError.classify(error)
        }
        if classified.kind != .cancelled { logger.debug("upstream call failed", metadata: ["reason": "\(classified.message)"]) }
        return classified
    }
}

/// The serialised requests of one ``UpstreamHTTPClient``, by method, URL and `Accept`.
private final class TemplateCache: Sendable {
    struct Key: Hashable, Sendable {
        var method: String
        var url: String
        var accept: String
    }

    /// Templates kept at most: a provider calls a handful of URLs, but model names are part of
    /// some (Gemini's), and a client could send many.
    static let capacity = 64

    let entries = Mutex<[Key: UpstreamRequestTemplate]>([:])
}
