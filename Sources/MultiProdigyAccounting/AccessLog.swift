import Logging
import MultiProdigyRouting

/// One line per request that reached an API endpoint (each one the usage ledger has a row for),
/// written with `server.log_format: json` (or `multiprodigy serve --log-format json`) through the
/// `multiprodigy.access` logger at `notice`, whatever the log level.
///
/// The line carries what the usage ledger's row holds: `request_id`, `key` (the ledger's
/// `key_name`), `api` (`endpoint`), `route`, `provider`, `model`, `status`, `attempts`,
/// `latency_ms` and `ttft_ms` (streams; the ledger keeps seconds), `input_tokens` and
/// `output_tokens` (`prompt_tokens`, `completion_tokens`), `cost_usd`, plus `targets` (every target
/// that wrote part of the answer, or for a failed request the last one tried, as `provider/model`)
/// and `estimated` (whether the tokens are an estimate). Never a prompt, an answer or a secret.
public struct AccessLog: Sendable {
    private let logger: Logger

    /// An access log writing through `logger`, whose level is lowered to `notice` so that
    /// `--log-level warning` keeps the access lines.
    public init(logger: Logger = Logger(label: "multiprodigy.access")) {
        var logger = logger
        if logger.logLevel > .notice { logger.logLevel = .notice }
        self.logger = logger
    }

    /// Writes the line of a request refused for its key (401 or 403), which has no ledger row.
    package func writeRefusal(_ outcome: RequestOutcome) {
        logger.notice(
            "request",
            metadata: [
                "request_id": .string(outcome.requestID),
                "key": .string(outcome.keyName),
                "api": .string(outcome.endpoint),
                "status": .stringConvertible(outcome.status),
                "attempts": .stringConvertible(0),
                "latency_ms": .stringConvertible(Self.milliseconds(outcome.duration.seconds)),
            ]
        )
    }

    /// Writes the line of `outcome`, whose ledger row is `record`.
    func write(_ record: UsageRecord, of outcome: RequestOutcome) {
        var metadata: Logger.Metadata = [
            "request_id": .string(record.requestID),
            "key": .string(outcome.keyName),
            "api": .string(record.endpoint),
            "route": .string(record.route),
            "status": .stringConvertible(record.status),
            "attempts": .stringConvertible(record.attempts),
            "latency_ms": .stringConvertible(Self.milliseconds(record.latencySeconds)),
            "input_tokens": .stringConvertible(record.promptTokens),
            "output_tokens": .stringConvertible(record.completionTokens),
            "cost_usd": .stringConvertible(record.costUSD),
            "estimated": .stringConvertible(outcome.usage?.isEstimated ?? false),
        ]
        if let provider = record.provider { metadata["provider"] = .string(provider) }
        if let model = record.model { metadata["model"] = .string(model) }
        if let seconds = record.timeToFirstTokenSeconds { metadata["ttft_ms"] = .stringConvertible(Self.milliseconds(seconds)) }
        let targets = outcome.segments.isEmpty ? [outcome.target].compactMap { $0 } : outcome.segments.map(\.target)
        metadata["targets"] = .array(targets.map { .string($0.statisticsKey) })
        logger.notice("request", metadata: metadata)
    }

    /// Seconds as milliseconds with three decimals.
    private static func milliseconds(_ seconds: Double) -> Double {
        (seconds * 1_000_000).rounded() / 1000
    }
}
