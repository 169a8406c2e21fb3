import HTTPTypes
import MultiProdigyJSON
import MultiProdigyCore
import NIOCore

/// Turns Anthropic's errors — an HTTP answer's `{"type":"error","error":{"type","message"}}` body or
/// an `event: error` inside a stream — into the ``ProviderError`` the gateway fails over on and the
/// OpenAI envelope the client sees.
///
/// - 401 and 403 follow ``ProviderError/upstreamStatus(_:body:provider:)``: the client sees a 502
///   saying the gateway's key was refused, never Anthropic's text.
/// - 529 `overloaded_error` is retryable (kind `server`). OpenAI clients know no 529, so when it is
///   the last error the client sees it becomes **503** `server_error` with code `overloaded_error`.
/// - 429 is `rateLimited`; other 5xx are `server`; other 4xx are `client` and keep Anthropic's message.
/// - The envelope's `type` is OpenAI's for the status; `code` keeps Anthropic's error type whenever
///   it says more than that (`overloaded_error`, `api_error`, `billing_error`, …).
enum AnthropicErrorMapping {
    /// The status Anthropic uses for `overloaded_error`.
    static let overloadedStatus = 529

    /// The error for a non-2xx answer from Anthropic.
    package static func error(status: HTTPResponse.Status, body: ByteBuffer, provider: String) -> ProviderError {
        switch status.code {
        case 401, 403, 100..<200, 300..<400:
            return ProviderError.upstreamStatus(status, body: body, provider: provider)
        default:
            let parsed = try? JSONValue.parse(body)
            let detail = parsed?["error"]
            let message =
                detail?["message"]?.stringValue
                ?? parsed?["error"]?.stringValue
                ?? parsed?["message"]?.stringValue
                ?? plainText(body)
                ?? "\(provider) answered HTTP \(status.code)"
            return error(status: status.code, anthropicType: detail?["type"]?.stringValue, message: message, provider: provider)
        }
    }

    /// The error for an `event: error` received inside a 200 stream.
    ///
    /// Its `error.type` decides the kind, as the matching HTTP status would: `overloaded_error` and
    /// `api_error` are retryable server errors, `rate_limit_error` a rate limit.
    static func streamError(_ payload: JSONValue, provider: String) -> ProviderError {
        let detail = payload["error"]
        let type = detail?["type"]?.stringValue
        let message = detail?["message"]?.stringValue ?? "the stream reported an error"
        let status = type.flatMap { statusByType[$0] } ?? 500
        var failure = error(status: status, anthropicType: type, message: message, provider: provider)
        failure.message = "\(provider) reported \(type ?? "an error") mid-stream: \(message)"
        return failure
    }

    /// Builds the error for Anthropic status `status`, error type `anthropicType` and `message`.
    package static func error(status: Int, anthropicType: String?, message: String, provider: String) -> ProviderError {
        switch status {
        case 401, 403:
            return ProviderError.upstreamStatus(HTTPResponse.Status(code: status), body: ByteBuffer(), provider: provider)
        default:
            break
        }
        let kind: ProviderError.Kind =
            switch status {
            case 429: .rateLimited
            case 408, 500...: .server
            default: .client
            }
        let clientStatus = HTTPResponse.Status(code: status == overloadedStatus ? 503 : status)
        let type = UpstreamErrorBody.defaultType(for: clientStatus)
        let code = anthropicType.flatMap { $0 == type ? nil : $0 }
        let envelope = GatewayError(status: clientStatus, message: message, type: type, code: code)
        return ProviderError(kind: kind, message: "HTTP \(status): \(message)", upstreamError: envelope)
    }

    /// The HTTP status Anthropic answers each error type with, for errors that arrive in a stream.
    static let statusByType: [String: Int] = [
        "invalid_request_error": 400,
        "authentication_error": 401,
        "billing_error": 402,
        "permission_error": 403,
        "not_found_error": 404,
        "request_too_large": 413,
        "rate_limit_error": 429,
        "api_error": 500,
        "timeout_error": 504,
        "overloaded_error": overloadedStatus,
    ]

    private static func plainText(_ body: ByteBuffer) -> String? {
        let text = String(decoding: body.readableBytesView.prefix(300), as: UTF8.self).trimmingWhitespace()
        return text.isEmpty ? nil : text
    }
}
