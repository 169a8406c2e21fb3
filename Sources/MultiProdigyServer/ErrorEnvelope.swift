import HTTPTypes
import MultiProdigyCore
import NIOCore

/// The shape of an API's error bodies: OpenAI's `{"error":{…}}` on every endpoint but Anthropic's
/// Messages, which answers `{"type":"error","error":{…}}`.
///
/// The status, and the `Retry-After` and `x-should-retry` headers, are the same in every shape.
struct ErrorEnvelope: Sendable {
    /// The body of `error` in this shape.
    let body: @Sendable (GatewayError) -> ByteBuffer
    /// The header that repeats the gateway's request id on every response of the API, besides
    /// `x-multiprodigy-request-id`, where its SDK looks for one (Anthropic's `request-id`).
    var requestIDHeader: HTTPField.Name? = nil

    /// OpenAI's envelope, which Chat Completions, Responses, Embeddings and the gateway's own
    /// endpoints answer.
    static let openAI = ErrorEnvelope { $0.jsonBody() }

    /// The envelope of the API that `path` (as routed) belongs to.
    static func of(path: String) -> ErrorEnvelope {
        path == "/v1/messages" || path.hasPrefix("/v1/messages/") ? .anthropic : .openAI
    }
}
