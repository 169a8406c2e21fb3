import Foundation
import HTTPTypes
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore

/// Maps Hugging Face error answers (TGI, TEI, the HF router) to the gateway's errors.
///
/// TGI and TEI's native endpoints answer `{"error": "...", "error_type": "validation"}`, TEI's
/// OpenAI-compatible route a flat `{"message", "code", "type"}`, the router OpenAI's envelope or
/// plain text, and a model still loading `{"error": "...", "estimated_time": 20.0}` with 503.
enum HuggingFaceErrorMapping {
    /// The error for a non-2xx answer from provider `provider`.
    package static func map(status: HTTPResponse.Status, body: ByteBuffer, provider: String) -> ProviderError {
        if status.code == 401 || status.code == 403 || (300..<400).contains(status.code) || status.code < 200 {
            return ProviderError.upstreamStatus(status, body: body, provider: provider)
        }
        let parsed = try? JSONValue.parse(body)
        let message = Self.message(in: parsed, body: body) ?? "HTTP \(status.code) with no explanation"
        let errorType = parsed?["error_type"]?.stringValue ?? parsed?["type"]?.stringValue ?? parsed?["error"]?["type"]?.stringValue
        switch status.code {
        case 422, 400, 413:
            // Validation: the input does not fit the model (too long, bad template, bad tool grammar).
            let error = GatewayError(
                status: .badRequest,
                message: "\(provider): \(message)",
                type: "invalid_request_error",
                code: errorType.map { "hf_\($0)" } ?? "invalid_request"
            )
            return ProviderError(kind: .client, message: "HTTP \(status.code): \(message)", upstreamError: error)
        case 424:
            // The request was valid but generation failed on the server; another target may succeed.
            let error = GatewayError(
                status: .badGateway,
                message: "\(provider): generation failed: \(message)",
                type: "upstream_error",
                code: "generation_failed"
            )
            return ProviderError(kind: .server, message: "HTTP 424: generation failed: \(message)", upstreamError: error)
        case 429:
            let error = GatewayError(
                status: .tooManyRequests,
                message: "\(provider): \(message)",
                type: "rate_limit_error",
                code: "rate_limited"
            )
            return ProviderError(kind: .rateLimited, message: "HTTP 429: \(message)", upstreamError: error)
        case 503:
            var reason = message
            if let seconds = parsed?["estimated_time"]?.doubleValue, seconds.isFinite, seconds >= 0, seconds < 86_400 {
                reason += " (the model is loading; about \(Int(seconds.rounded(.up))) s left)"
            }
            let error = GatewayError(
                status: .serviceUnavailable,
                message: "\(provider): \(reason)",
                type: "upstream_error",
                code: "model_loading"
            )
            return ProviderError(kind: .server, message: "HTTP 503: \(reason)", upstreamError: error)
        case 404:
            let error = GatewayError(
                status: .notFound,
                message: "\(provider): \(message)",
                type: "invalid_request_error",
                param: "model",
                code: "model_not_found"
            )
            return ProviderError(kind: .client, message: "HTTP 404: \(message)", upstreamError: error)
        default:
            return ProviderError.upstreamStatus(status, body: body, provider: provider)
        }
    }

    /// The human-readable message of any of Hugging Face's error shapes.
    private static func message(in parsed: JSONValue?, body: ByteBuffer) -> String? {
        if let parsed {
            if let text = parsed["error"]?.stringValue { return text }
            if let text = parsed["error"]?["message"]?.stringValue { return text }
            if let text = parsed["message"]?.stringValue { return text }
            return nil
        }
        let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : String(text.prefix(500))
    }
}
