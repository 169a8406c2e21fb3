import HTTPTypes
import MultiProdigyJSON
import NIOCore

/// Turns an upstream's error body, whatever its shape, into OpenAI's envelope.
///
/// Accepts OpenAI's `{"error":{"message",…}}`, the flat `{"error":"…"}` of Ollama and TGI, the flat
/// `{"message":…}` of TEI, and plain text; keeps `type`, `code` and `param` when the upstream gave them.
public enum UpstreamErrorBody {
    /// Normalises `body`, answered with `status` by `provider`.
    public static func normalize(status: HTTPResponse.Status, body: ByteBuffer, provider: String) -> GatewayError {
        var error = GatewayError(
            status: status,
            message: "\(provider) answered HTTP \(status.code)",
            type: defaultType(for: status)
        )
        body.withUnsafeReadableBytes { bytes in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes) else {
                let text = String(decoding: bytes.prefix(300), as: UTF8.self).trimmingWhitespace()
                if !text.isEmpty { error.message = text }
                return
            }
            var fields = members
            if let inner = members.first(where: { $0.key == "error" }) {
                switch inner.kind {
                case .object: fields = (try? JSONScanner.members(ofObjectAt: inner.value, in: bytes)) ?? []
                case .string:
                    error.message = JSONScanner.decodeString(at: inner.value, in: bytes)
                    fields = members.filter { $0.key != "error" }
                default: break
                }
            }
            for field in fields {
                switch (field.key, field.kind) {
                case ("message", .string): error.message = JSONScanner.decodeString(at: field.value, in: bytes)
                case ("type", .string), ("error_type", .string): error.type = JSONScanner.decodeString(at: field.value, in: bytes)
                case ("code", .string): error.code = JSONScanner.decodeString(at: field.value, in: bytes)
                case ("param", .string): error.param = JSONScanner.decodeString(at: field.value, in: bytes)
                default: break
                }
            }
        }
        return error
    }

    /// OpenAI's `type` for an HTTP status.
    public static func defaultType(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 500...: "server_error"
        default: "invalid_request_error"
        }
    }
}

extension String {
    package func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
