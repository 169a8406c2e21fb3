import HTTPTypes
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore

/// Maps Gemini's error answers (`{"error":{"code","message","status","details"}}`, sometimes
/// wrapped in a one-element array) to the ``ProviderError`` the gateway reports.
///
/// | Gemini | Client sees | Kind |
/// |---|---|---|
/// | 400 `INVALID_ARGUMENT`, `FAILED_PRECONDITION` | 400 `invalid_request_error` with Gemini's message | client |
/// | 400 with `ErrorInfo.reason = API_KEY_INVALID`, 401, 403 | 502 `upstream_authentication_failed` | authentication |
/// | 404 `NOT_FOUND` | 404 `invalid_request_error`, code `model_not_found` | client |
/// | 429 `RESOURCE_EXHAUSTED` | 429 `rate_limit_exceeded` + `Retry-After` from `RetryInfo.retryDelay`; `insufficient_quota` for a daily quota | rate limited |
/// | 408, 500, 503, 504 | same status, `server_error` | server |
enum GeminiErrorMapping {
    /// The error for Gemini's non-2xx answer `status` with `body`.
    package static func error(status: HTTPResponse.Status, body: ByteBuffer, provider: String) -> ProviderError {
        guard let error = googleError(in: body) else {
            return ProviderError.upstreamStatus(status, body: body, provider: provider)
        }
        return self.error(status: status, googleError: error, provider: provider)
    }

    /// The `error` object of a Google error body, if `body` is one.
    static func googleError(in body: ByteBuffer) -> JSONValue? {
        guard var json = try? JSONValue.parse(body) else { return nil }
        if case .array(let elements) = json, elements.count == 1 { json = elements[0] }
        guard let error = json["error"], error.objectValue != nil else { return nil }
        return error
    }

    /// The error for a parsed Google `error` object answered with `status`.
    package static func error(status: HTTPResponse.Status, googleError error: JSONValue, provider: String) -> ProviderError {
        let message = error["message"]?.stringValue ?? "\(provider) answered HTTP \(status.code)"
        let details = error["details"]?.arrayValue ?? []
        let reasons = details.compactMap { $0["reason"]?.stringValue }
        if status.code == 401 || status.code == 403 || reasons.contains("API_KEY_INVALID") {
            return ProviderError.upstreamStatus(.unauthorized, body: ByteBuffer(), provider: provider)
        }
        let gatewayError: GatewayError
        let kind: ProviderError.Kind
        switch status.code {
        case 404:
            kind = .client
            gatewayError = GatewayError(status: .notFound, message: message, type: "invalid_request_error", code: "model_not_found")
        case 429:
            kind = .rateLimited
            let quotaIDs = details.flatMap { $0["violations"]?.arrayValue ?? [] }.compactMap { $0["quotaId"]?.stringValue }
            if quotaIDs.contains(where: { $0.contains("PerDay") }) {
                gatewayError = GatewayError(
                    status: .tooManyRequests,
                    message: message,
                    type: "insufficient_quota",
                    code: "insufficient_quota"
                )
            } else {
                let delay = details.compactMap { $0["retryDelay"]?.stringValue }.first.flatMap(retryDelaySeconds)
                gatewayError = GatewayError(
                    status: .tooManyRequests,
                    message: message,
                    type: "rate_limit_error",
                    code: "rate_limit_exceeded",
                    retryAfterSeconds: delay
                )
            }
        case 408, 500...:
            kind = .server
            gatewayError = GatewayError(status: status, message: message, type: "server_error")
        case 100..<400:
            return ProviderError.upstreamStatus(status, body: ByteBuffer(), provider: provider)
        default:
            kind = .client
            gatewayError = GatewayError(status: status, message: message, type: "invalid_request_error")
        }
        return ProviderError(kind: kind, message: "HTTP \(status.code): \(message)", upstreamError: gatewayError)
    }

    /// The status an in-stream Google error object stands for (its `code`, else 500).
    package static func status(of googleError: JSONValue) -> HTTPResponse.Status {
        guard let code = googleError["code"]?.intValue, (400..<600).contains(code) else { return .internalServerError }
        return HTTPResponse.Status(code: code)
    }

    /// Whole seconds, rounded up, of a protobuf Duration string such as `"34s"` or `"1.5s"`.
    static func retryDelaySeconds(_ duration: String) -> Int? {
        guard duration.hasSuffix("s"), let seconds = Double(duration.dropLast()), seconds >= 0, seconds < 86_400 else { return nil }
        return Int(seconds.rounded(.up))
    }
}
