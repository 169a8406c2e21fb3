// `@testable` imports need a debug build (`-enable-testing`); a release build of the package skips this target.
#if DEBUG
import HTTPTypes
import MultiProdigyCore
import NIOCore
import NIOHTTP1

@testable import MultiProdigyProviders

/// `Retry-After` headers and upstream error bodies.
///
/// Properties, on any bytes: a `Retry-After` or `Retry-After-Ms` value gives no delay or one between
/// zero and ``RetryAfter/maximumDelay``; Gemini's `retryDelay` gives no delay or a non-negative one;
/// every provider's error mapping reads any body into an error that keeps the answer's status class.
enum ErrorsFuzzTarget {
    static let summary = "Retry-After values and every provider's error bodies give bounded delays and sound errors"

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        var input = FuzzInput(bytes)
        let statusPick = input.byte()
        let headerLength = input.choice(of: 48)
        let header = String(decoding: input.take(headerLength), as: UTF8.self)
        let now = Int64(bitPattern: UInt64(input.byte()) << 40 | UInt64(input.byte()) << 24)
        let body = ByteBuffer(bytes: input.rest())

        for (seconds, milliseconds) in [(header, nil), (nil, header), ("1", header), (header, "x")] as [(String?, String?)] {
            if let delay = RetryAfter.delay(retryAfter: seconds, retryAfterMilliseconds: milliseconds, nowUnixSeconds: now) {
                try FuzzViolation.require(
                    delay >= .zero && delay <= RetryAfter.maximumDelay,
                    "Retry-After '\(seconds ?? "")' / '\(milliseconds ?? "")' gave \(delay)"
                )
            }
        }
        if let delay = GeminiErrorMapping.retryDelaySeconds(header) {
            try FuzzViolation.require(delay >= 0, "Gemini's retryDelay '\(header)' gave \(delay) s")
        }

        let statuses: [HTTPResponse.Status] = [
            .badRequest, .unauthorized, .notFound, .tooManyRequests, .internalServerError, .serviceUnavailable,
        ]
        let status = statuses[Int(statusPick) % statuses.count]
        let normalized = UpstreamErrorBody.normalize(status: status, body: body, provider: "fuzz")
        try FuzzViolation.require(normalized.status == status, "the normalised error changed the status")
        var headers = HTTPHeaders()
        headers.add(name: "retry-after", value: header)
        let errors = [
            ProviderError.upstreamStatus(status, body: body, provider: "fuzz").readingRetryAfter(from: headers),
            AnthropicErrorMapping.error(status: status, body: body, provider: "fuzz"),
            GeminiErrorMapping.error(status: status, body: body, provider: "fuzz"),
            HuggingFaceErrorMapping.map(status: status, body: body, provider: "fuzz"),
            OllamaErrorMapping.error(status: status, body: body, provider: "fuzz", model: "llama-fuzz", path: "/api/chat"),
        ]
        for error in errors {
            if let delay = error.retryAfter {
                try FuzzViolation.require(delay >= .zero, "an error body gave a negative retry delay")
            }
            if let upstream = error.upstreamError {
                try FuzzViolation.require((400..<600).contains(upstream.status.code), "an error body gave status \(upstream.status.code)")
            }
        }
    }
}
#endif
