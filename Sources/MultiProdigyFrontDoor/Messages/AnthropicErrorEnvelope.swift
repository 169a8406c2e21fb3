import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// The gateway's errors in Anthropic's envelope, for the Messages API:
/// `{"type":"error","error":{"type":"rate_limit_error","message":"…"}}`.
///
/// The HTTP status stays the gateway's; only the envelope changes, so that Anthropic's SDKs raise
/// the exception class they pick by status and find the `error.type` they expect. The same body is
/// the `data` of a mid-stream `event: error`.
public enum AnthropicErrorEnvelope {
    /// The error body for `error`, with `error.message` as the message.
    ///
    /// - Parameter requestID: The gateway's request id, sent as Anthropic's `request_id` when given.
    public static func body(for error: GatewayError, requestID: String? = nil) -> ByteBuffer {
        var body: JSONValue = [
            "type": "error",
            "error": ["type": .string(errorType(for: error.status.code)), "message": .string(error.message)],
        ]
        if let requestID { body["request_id"] = .string(requestID) }
        return body.buffer
    }

    /// Anthropic's `error.type` for an HTTP status code (a number, so that this module needs no
    /// HTTP types: pass `error.status.code`).
    ///
    /// | Status | `error.type` |
    /// |---|---|
    /// | 401 | `authentication_error` |
    /// | 402 | `billing_error` |
    /// | 403 | `permission_error` |
    /// | 404 | `not_found_error` |
    /// | 408, 504 | `timeout_error` |
    /// | 413 | `request_too_large` |
    /// | 429 | `rate_limit_error` |
    /// | 503, 529 | `overloaded_error` |
    /// | other 4xx (400, 409, 422, 499) | `invalid_request_error` |
    /// | other 5xx, anything else | `api_error` |
    ///
    /// 503 is `overloaded_error` because the gateway answers an upstream's 529 (Anthropic's overload)
    /// with 503, and because its own 503s (no target available now) are as transient.
    public static func errorType(for status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 402: "billing_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 408, 504: "timeout_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 503, 529: "overloaded_error"
        case 400..<500: "invalid_request_error"
        default: "api_error"
        }
    }
}
