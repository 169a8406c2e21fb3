import Hummingbird
import MultiProdigyResilience
import MultiProdigyCore
import NIOCore

/// Reads a request body up to `server.max_request_bytes`, answering 413 past it.
enum RequestBodyReader {
    /// The whole body of `request`.
    ///
    /// A body whose declared length is over the limit never reaches here whole: the connection
    /// hands over one that fails to read (``OverLimitRequestBody``), without waiting for its bytes.
    ///
    /// - Throws: ``GatewayError`` 413 `request_too_large` when the body exceeds `limit`.
    static func collect(_ request: inout Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge(limit)
        }
    }

    private static func tooLarge(_ limit: Int) -> GatewayError {
        GatewayError(
            status: .contentTooLarge,
            message: "The request body is larger than this gateway accepts (\(limit) bytes, server.max_request_bytes).",
            type: "invalid_request_error",
            code: "request_too_large"
        )
    }
}
