import HTTPTypes
import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyPrivacy
import MultiProdigyResilience

extension GatewayError {
    /// This error as an HTTP response with a JSON body in `envelope`'s shape.
    func response(headers extra: HTTPFields = [:], envelope: ErrorEnvelope = .openAI) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if let shouldRetry { headers[HTTPField.Name("x-should-retry")!] = shouldRetry ? "true" : "false" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: envelope.body(self)))
    }
}
