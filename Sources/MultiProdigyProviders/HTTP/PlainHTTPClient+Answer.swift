import HTTPTypes
import MultiProdigyCore
import NIOCore

extension PlainHTTPClient {
    /// POSTs `body` with `template` and returns a 2xx answer's body; any other status is the
    /// provider's error (`mapError`, else OpenAI's reading), with its `Retry-After`.
    ///
    /// - Throws: ``ProviderError``: the upstream's refusal, or the connection's failure classified.
    func answer(
        _ template: PlainHTTPRequestTemplate,
        body: ByteBuffer,
        deadline: NIODeadline,
        maxResponseBytes: Int,
        provider: String,
        mapError: UpstreamHTTPClient.ErrorMapping?
    ) async throws -> ByteBuffer {
        let response: PlainHTTPResponse
        do {
            response = try await post(template, body: body, deadline: deadline, maxResponseBytes: maxResponseBytes)
        } catch {
            throw ProviderError.classify(error)
        }
        guard (200..<300).contains(response.status.code) else {
            let status = HTTPResponse.Status(code: Int(response.status.code))
            let error = mapError?(status, response.body) ?? ProviderError.upstreamStatus(status, body: response.body, provider: provider)
            throw error.readingRetryAfter(from: response.headers)
        }
        return response.body
    }
}
