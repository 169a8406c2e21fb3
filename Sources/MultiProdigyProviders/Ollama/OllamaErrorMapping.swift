import HTTPTypes
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore

/// Maps Ollama's error answers (`{"error": "<text>"}`) to the errors the gateway reports.
///
/// A missing model (a 404 with Ollama's error body, or any 4xx whose text says the model was not
/// found) becomes a 404 `model_not_found` that says how to pull it. A 404 without Ollama's
/// error body means the endpoint itself is missing (a wrong `base_url`, or an Ollama too old for
/// `/api/embed`). Everything else follows the gateway's usual rules
/// (``ProviderError/upstreamStatus(_:body:provider:)``): 429 is a rate limit, 5xx (such as 503
/// "server busy" when Ollama's queue is full) lets another target be tried, other 4xx reach the client.
enum OllamaErrorMapping {
    /// The error for Ollama's answer `status` with `body` to a call for `model`.
    ///
    /// - Parameters:
    ///   - status: The HTTP status.
    ///   - body: The answer's body.
    ///   - provider: The provider's name in the config.
    ///   - model: The model name sent to Ollama, for the `ollama pull` hint.
    ///   - path: The API path called, for messages.
    package static func error(
        status: HTTPResponse.Status,
        body: ByteBuffer,
        provider: String,
        model: String?,
        path: String
    ) -> ProviderError {
        let ollamaMessage = errorText(in: body)
        if let model, let ollamaMessage, status.code == 404 || ((400..<500).contains(status.code) && isModelNotFound(ollamaMessage)) {
            let message =
                "The model '\(model)' is not available on the Ollama server of provider '\(provider)' (Ollama said: \(ollamaMessage)). "
                + "Pull it on that server with `ollama pull \(model)`, or correct the model name in the gateway's config."
            return ProviderError(
                kind: .client,
                message: message,
                upstreamError: GatewayError(
                    status: .notFound,
                    message: message,
                    type: "invalid_request_error",
                    param: "model",
                    code: "model_not_found"
                )
            )
        }
        if status.code == 404, ollamaMessage == nil {
            return ProviderError(
                kind: .protocolViolation,
                message:
                    "\(provider) answered HTTP 404 for \(path): is base_url the Ollama server's root (such as http://127.0.0.1:11434), "
                    + "and is Ollama recent enough to serve \(path)?"
            )
        }
        return ProviderError.upstreamStatus(status, body: body, provider: provider)
    }

    /// Whether Ollama's error text says a model is missing: `model 'llama3' not found` (current),
    /// `model "llama3" not found, try pulling it first` (older).
    static func isModelNotFound(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return lowered.contains("not found") && lowered.contains("model")
    }

    /// The text of Ollama's `{"error": "<text>"}` body, if the body is one.
    static func errorText(in body: ByteBuffer) -> String? {
        guard let json = try? JSONValue.parse(body) else { return nil }
        return json["error"]?.stringValue ?? json["error"]?["message"]?.stringValue
    }
}
