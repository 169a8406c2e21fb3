import HTTPTypes
import MultiProdigyJSON
import NIOCore

/// An error answered to the client in OpenAI's envelope:
/// `{"error":{"message":…,"type":…,"param":…,"code":…}}`.
///
/// Every failure the gateway reports, whether the client's fault or an upstream's, is one of these,
/// so that OpenAI SDKs raise the matching exception (`BadRequestError`, `NotFoundError`, …).
public struct GatewayError: Error, Sendable, Equatable {
    /// HTTP status of the response.
    public var status: HTTPResponse.Status
    /// Human-readable explanation; never contains a secret.
    public var message: String
    /// OpenAI's error `type`, such as `invalid_request_error`.
    public var type: String
    /// The request field at fault, if any.
    public var param: String?
    /// A stable machine-readable code, such as `model_not_found`.
    public var code: String?
    /// Seconds the client should wait before retrying, sent as `Retry-After`.
    public var retryAfterSeconds: Int?
    /// Whether a client may retry, sent as `x-should-retry` (which OpenAI's SDKs obey) when set:
    /// false for a 429 that waiting will not cure, such as a spent budget.
    public var shouldRetry: Bool?

    /// Creates an error.
    public init(
        status: HTTPResponse.Status,
        message: String,
        type: String,
        param: String? = nil,
        code: String? = nil,
        retryAfterSeconds: Int? = nil
    ) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// A 400 `invalid_request_error`.
    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> GatewayError {
        GatewayError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// The JSON body of this error.
    public func jsonBody() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(message.utf8.count + 96)
        writeJSON(into: &buffer)
        return buffer
    }

    /// Writes `{"error":{…}}` into `buffer`.
    public func writeJSON(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"error\":{\"message\":")
        JSONWriter.writeString(message, into: &buffer)
        buffer.writeStaticString(",\"type\":")
        JSONWriter.writeString(type, into: &buffer)
        buffer.writeStaticString(",\"param\":")
        JSONWriter.writeOptionalString(param, into: &buffer)
        buffer.writeStaticString(",\"code\":")
        JSONWriter.writeOptionalString(code, into: &buffer)
        buffer.writeStaticString("}}")
    }
}
