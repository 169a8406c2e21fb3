import HTTPTypes
import MultiProdigyFrontDoor

extension ErrorEnvelope {
    /// Anthropic's envelope, which `/v1/messages` and `/v1/messages/count_tokens` answer.
    static let anthropic = ErrorEnvelope(
        body: { AnthropicErrorEnvelope.body(for: $0) },
        requestIDHeader: HTTPField.Name("request-id")!
    )
}
