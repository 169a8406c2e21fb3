import Foundation
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyResilience
import MultiProdigyRouting

/// The errors a client gets when its key's budget or rate limit refuses a request.
enum KeyLimitErrors {
    /// The 429 (503 when the shared store is unreachable) for `rejection` of the key `keyName`.
    static func error(for rejection: KeyLimiter.Rejection, keyName: String) -> GatewayError {
        switch rejection {
        case .budget(let spent, let amount, let renewsAt):
            let renewal = renewsAt.map { "It renews on \(Self.date($0))." } ?? "It does not renew."
            var error = GatewayError(
                status: .tooManyRequests,
                message:
                    "The key '\(keyName)' has used its budget: $\(CostFormatting.usd(spent)) spent of $\(CostFormatting.usd(amount)). \(renewal) Ask the gateway's operator to raise it.",
                type: "insufficient_quota",
                code: "budget_exceeded"
            )
            error.shouldRetry = false
            return error
        case .requests(let limit, let wait):
            return GatewayError(
                status: .tooManyRequests,
                message: "The key '\(keyName)' is limited to \(limit) requests per minute. Retry after \(seconds(wait)) s.",
                type: "rate_limit_error",
                code: "rate_limit_exceeded",
                retryAfterSeconds: seconds(wait)
            )
        case .tokens(let limit, let wait):
            // The bucket is often low because of requests still in flight, whose unused tokens come
            // back when they end: a minute is the most worth waiting before trying again.
            let retry = min(seconds(wait), 60)
            return GatewayError(
                status: .tooManyRequests,
                message: "The key '\(keyName)' is limited to \(limit) tokens per minute. Retry after \(retry) s.",
                type: "rate_limit_error",
                code: "rate_limit_exceeded",
                retryAfterSeconds: retry
            )
        case .storageUnavailable(let wait):
            // The client did nothing wrong: the gateway cannot check the key's limits right now.
            return GatewayError(
                status: .serviceUnavailable,
                message:
                    "The gateway cannot check the limits of the key '\(keyName)' right now: the storage its replicas share is unreachable. Retry after \(seconds(wait)) s.",
                type: "server_error",
                code: "storage_unavailable",
                retryAfterSeconds: seconds(wait)
            )
        }
    }

    /// The `reason` label of `multiprodigy_rejected_requests_total`.
    static func reason(for rejection: KeyLimiter.Rejection) -> String {
        switch rejection {
        case .budget: "budget_exceeded"
        case .requests: "rate_limit_rpm"
        case .tokens: "rate_limit_tpm"
        case .storageUnavailable: "storage_unavailable"
        }
    }

    /// Whole seconds, rounded up, at least 1.
    private static func seconds(_ duration: Duration) -> Int {
        max(1, Int(duration.seconds.rounded(.up)))
    }

    private static func date(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withTimeZone]
        return formatter.string(from: date)
    }
}
