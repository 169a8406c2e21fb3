import HTTPTypes
import MultiProdigyJSON
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why one attempt at one upstream failed.
///
/// Carries a kind (which decides whether another target may be tried), a message for the client
/// (scrubbed of secrets before it is shown or logged), and, when the upstream answered with an error, its status and its error
/// normalised to OpenAI's envelope.
public struct ProviderError: Error, Sendable, CustomStringConvertible {
    /// The failure's category; also a low-cardinality label for logs and metrics.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The connection could not be opened, or was reset or closed early.
        case connection
        /// A timeout fired (connect, first byte, first token, stall or total).
        case timeout
        /// The upstream answered 429.
        case rateLimited = "rate_limited"
        /// The upstream answered 5xx (or 408).
        case server
        /// The upstream rejected the request (4xx other than 401, 403, 408 and 429).
        case client
        /// The upstream rejected the gateway's own credentials for it (401, 403).
        case authentication
        /// The upstream's answer could not be understood.
        case protocolViolation = "protocol"
        /// The client went away, so the call was abandoned.
        case cancelled
        /// The target cannot serve the request as asked (a feature its provider lacks, such as `n` > 1
        /// on Anthropic); another target may. The client sees the refusal only if none can.
        case unsupported
    }

    /// The category.
    public var kind: Kind
    /// What happened, in words for the client. Text quoted from an upstream may hold a secret until
    /// the failover executor scrubs it (``SecretScrubber``), before anyone sees it.
    public var message: String
    /// The upstream's error, in OpenAI's envelope, when it answered with one.
    public var upstreamError: GatewayError?
    /// The HTTP status the upstream answered, when it answered (529 stays 529 here, whatever the
    /// client is shown).
    public var upstreamStatus: Int?
    /// How long the upstream asked to wait before trying again (`Retry-After`, `retry-after-ms`, or
    /// the provider's own hint such as Gemini's `RetryInfo`).
    public var retryAfter: Duration?
    /// Whether the connection was refused: nothing listens, so retrying at once is pointless.
    public var isConnectionRefused = false

    /// Creates an error.
    public init(kind: Kind, message: String, upstreamError: GatewayError? = nil, upstreamStatus: Int? = nil) {
        self.kind = kind
        self.message = message
        self.upstreamError = upstreamError
        self.upstreamStatus = upstreamStatus
    }

    /// This error with ``retryAfter`` read from the upstream's response headers, unless a provider
    /// hint already set it.
    public func readingRetryAfter(from headers: HTTPHeaders) -> ProviderError {
        guard retryAfter == nil else { return self }
        var error = self
        if let seconds = upstreamError?.retryAfterSeconds {
            error.retryAfter = .seconds(seconds)
            return error
        }
        error.retryAfter = RetryAfter.delay(
            retryAfter: headers.first(name: "retry-after"),
            retryAfterMilliseconds: headers.first(name: "retry-after-ms"),
            nowUnixSeconds: Int64(time(nil))
        )
        return error
    }

    /// Whether another target may be tried: nothing reached the client and the fault is the upstream's.
    public var allowsFailover: Bool {
        switch kind {
        case .connection, .timeout, .rateLimited, .server, .protocolViolation, .authentication, .unsupported: true
        case .client, .cancelled: false
        }
    }

    /// `kind: message`.
    public var description: String { "\(kind.rawValue): \(message)" }

    /// Builds the error for an upstream's non-2xx answer, normalising its body to OpenAI's envelope.
    public static func upstreamStatus(_ status: HTTPResponse.Status, body: ByteBuffer, provider: String) -> ProviderError {
        switch status.code {
        case 401, 403:
            // The provider refused the gateway's key for it, not the client's: say so without
            // relaying the upstream's text, which may quote part of that key.
            let message = "\(provider) rejected the gateway's credentials (HTTP \(status.code)); check its api_key"
            let error = GatewayError(status: .badGateway, message: message, type: "upstream_error", code: "upstream_authentication_failed")
            return ProviderError(kind: .authentication, message: message, upstreamError: error, upstreamStatus: status.code)
        case 100..<200, 300..<400:
            return ProviderError(
                kind: .protocolViolation,
                message: "\(provider) answered HTTP \(status.code), which a chat completion never is (is base_url right?)"
            )
        default:
            let kind: Kind =
                switch status.code {
                case 429: .rateLimited
                case 408, 500...: .server
                default: .client
                }
            let normalized = UpstreamErrorBody.normalize(status: status, body: body, provider: provider)
            return ProviderError(
                kind: kind,
                message: "HTTP \(status.code): \(normalized.message)",
                upstreamError: normalized,
                upstreamStatus: status.code
            )
        }
    }

    /// The adapter cannot embed: a 400 the client sees, not a reason to fail over.
    public static var embeddingsUnsupported: ProviderError {
        let message =
            "This model's provider does not support embeddings. Use a model served by an openai, gemini, ollama or huggingface provider."
        return ProviderError(
            kind: .unsupported,
            message: message,
            upstreamError: GatewayError(
                status: .badRequest,
                message: message,
                type: "invalid_request_error",
                param: "model",
                code: "embeddings_unsupported"
            )
        )
    }

    /// The adapter does not speak `api` itself: the gateway translates such requests through chat
    /// instead, so reaching this is a wiring mistake; it fails over like any unsupported feature.
    public static func nativeAPIUnsupported(_ api: NativeAPI) -> ProviderError {
        ProviderError(kind: .unsupported, message: "this provider does not serve the \(api.rawValue) API natively")
    }

    /// The error for a request an adapter refused while translating it: kind ``Kind/unsupported``
    /// (fail over) when the refusal's code is `unsupported_parameter`, which adapters use for
    /// features their provider lacks; else kind `client` (the request itself is wrong).
    public static func translationRefusal(_ error: GatewayError) -> ProviderError {
        ProviderError(kind: error.code == "unsupported_parameter" ? .unsupported : .client, message: error.message, upstreamError: error)
    }

    /// Classifies an error thrown by the HTTP client or the network stack.
    public static func classify(_ error: any Error) -> ProviderError {
        if let error = error as? ProviderError { return error }
        if error is CancellationError { return ProviderError(kind: .cancelled, message: "the request was cancelled") }
        if error is UpstreamDeadlineError {
            return ProviderError(kind: .timeout, message: "timed out waiting for the upstream's response")
        }
        if let error = error as? UpstreamSilentCloseError {
            let shown = (error.silence.seconds * 10).rounded() / 10
            return ProviderError(kind: .timeout, message: "the upstream sent nothing for \(shown) s, then closed the connection")
        }
        if error is HTTPClientConnectionClosedError {
            return ProviderError(kind: .connection, message: "the upstream closed the connection early")
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return ProviderError(kind: .timeout, message: "timed out connecting to the upstream")
        }
        if error is NIOTooManyBytesError {
            return ProviderError(kind: .protocolViolation, message: "the upstream's answer is larger than server.max_response_bytes")
        }
        if let error = error as? NIOConnectionError {
            // Classify what the connection attempts hit (refused, reset, timed out) like a bare error.
            let underlying = error.connectionErrors.map(\.error)
            if let cause = underlying.first(where: { $0 is IOError }) ?? underlying.first(where: { $0 is ChannelError }) {
                let classified = classify(cause)
                if classified.kind == .timeout || cause is IOError { return classified }
            }
            return ProviderError(kind: .connection, message: "could not connect to \(error.host):\(error.port)")
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED:
                var refused = ProviderError(kind: .connection, message: "connection refused (is the server running?)")
                refused.isConnectionRefused = true
                return refused
            case ECONNRESET: return ProviderError(kind: .connection, message: "connection reset by the upstream")
            case ETIMEDOUT: return ProviderError(kind: .timeout, message: "timed out connecting to the upstream")
            default: return ProviderError(kind: .connection, message: "network error (errno \(error.errnoCode))")
            }
        }
        if error is ChannelError {
            return ProviderError(kind: .connection, message: "the connection to the upstream failed (\(error))")
        }
        return ProviderError(kind: .connection, message: "\(error)")
    }
}
