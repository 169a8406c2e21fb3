import MultiProdigyCore
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct AnthropicErrorEnvelopeTests {
    @Test(arguments: [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (402, "billing_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (408, "timeout_error"),
        (409, "invalid_request_error"),
        (413, "request_too_large"),
        (422, "invalid_request_error"),
        (429, "rate_limit_error"),
        (499, "invalid_request_error"),
        (500, "api_error"),
        (502, "api_error"),
        (503, "overloaded_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
    ])
    func errorTypePerStatus(status: Int, type: String) {
        #expect(AnthropicErrorEnvelope.errorType(for: status) == type)
    }

    @Test func bodyKeepsTheGatewaysMessage() {
        let error = GatewayError(
            status: .tooManyRequests,
            message: "Budget \"team\" spent",
            type: "rate_limit_error",
            code: "budget_exceeded"
        )
        #expect(
            String(buffer: AnthropicErrorEnvelope.body(for: error))
                == #"{"type":"error","error":{"type":"rate_limit_error","message":"Budget \"team\" spent"}}"#
        )
    }

    @Test func bodyCarriesTheRequestIDWhenGiven() {
        let error = GatewayError.invalidRequest("messages: Field required", param: "messages")
        #expect(
            String(buffer: AnthropicErrorEnvelope.body(for: error, requestID: "req_1"))
                == #"{"type":"error","error":{"type":"invalid_request_error","message":"messages: Field required"},"request_id":"req_1"}"#
        )
    }

    @Test func upstreamFailureIsAnAPIError() {
        let error = GatewayError(status: .badGateway, message: "Every target failed", type: "upstream_error", code: "upstream_unavailable")
        #expect(
            String(buffer: AnthropicErrorEnvelope.body(for: error))
                == #"{"type":"error","error":{"type":"api_error","message":"Every target failed"}}"#
        )
    }
}
