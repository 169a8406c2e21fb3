import Logging
import MultiProdigyRouting

/// One line per request that reached an API endpoint (each one the usage ledger has a row for),
/// written with `server.log_format: json` (or `multiprodigy serve --log-format json`) through the
/// `multiprodigy.access` logger at `notice`, whatever the log level.
///
/// The line carries what the usage ledger's row holds: `request_id`, `key` (the ledger's
/// `key_name`), `api` (`endpoint`), `route`, `provider`, `model`, `status`, `attempts`,
/// `latency_ms` and `ttft_ms` (streams; the ledger keeps seconds), `input_tokens` and
/// `output_tokens` (`prompt_tokens`, `completion_tokens`), `cost_usd`, `path` (every attempt in order, as
/// `target:outcome`, the ledger's `path`), plus `targets` (every target tried, each once, in the order first
/// tried, as `provider/model`) and `estimated` (whether the tokens are an estimate). Never a prompt, an
/// answer or a secret.
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
        let metadata = Self.fields(
            requestID: outcome.requestID,
            key: outcome.keyName,
            api: outcome.endpoint,
            status: outcome.status,
            attempts: 0,
            latencySeconds: outcome.duration.seconds
        )
        logger.notice("request", metadata: metadata)
    }

    /// Writes the line of `outcome`, whose ledger row is `record`.
    func write(_ record: UsageRecord, of outcome: RequestOutcome) {
        var metadata = Self.fields(
            requestID: record.requestID,
            key: outcome.keyName,
            api: record.endpoint,
            status: record.status,
            attempts: record.attempts,
            latencySeconds: record.latencySeconds
        )
        metadata["route"] = .string(record.route)
        metadata["input_tokens"] = .stringConvertible(record.promptTokens)
        metadata["output_tokens"] = .stringConvertible(record.completionTokens)
        metadata["cost_usd"] = .stringConvertible(record.costUSD)
        metadata["estimated"] = .stringConvertible(outcome.usage?.isEstimated ?? false)
        if let provider = record.provider { metadata["provider"] = .string(provider) }
        if let model = record.model { metadata["model"] = .string(model) }
        if let seconds = record.timeToFirstTokenSeconds { metadata["ttft_ms"] = .stringConvertible(Self.milliseconds(seconds)) }
        // The trail knows every target tried; a request that has none (planned but refused before any
        // attempt) names the target it would have used, if any.
        var targets = outcome.triedTargets
        for segment in outcome.segments where !targets.contains(segment.target) { targets.append(segment.target) }
        if targets.isEmpty, let target = outcome.target { targets = [target] }
        metadata["targets"] = .array(targets.map { .string($0.statisticsKey) })
        metadata["path"] = .array((record.path ?? []).map { .string($0) })
        logger.notice("request", metadata: metadata)
    }

    /// The fields every access line carries.
    private static func fields(
        requestID: String,
        key: String,
        api: String,
        status: Int,
        attempts: Int,
        latencySeconds: Double
    ) -> Logger.Metadata {
        [
            "request_id": .string(requestID),
            "key": .string(key),
            "api": .string(api),
            "status": .stringConvertible(status),
            "attempts": .stringConvertible(attempts),
            "latency_ms": .stringConvertible(milliseconds(latencySeconds)),
        ]
    }

    /// Seconds as milliseconds with three decimals.
    private static func milliseconds(_ seconds: Double) -> Double {
        (seconds * 1_000_000).rounded() / 1000
    }
}
