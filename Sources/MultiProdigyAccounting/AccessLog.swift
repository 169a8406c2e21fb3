import Logging
import MultiProdigyRouting

/// One line per finished request, written with `server.log_format: json` (or
/// `multiprodigy serve --log-format json`) through the `multiprodigy.access` logger at `notice`.
///
/// The line carries what the usage ledger's row holds, under the same names: `request_id`, `key`,
/// `api`, `route`, `provider`, `model`, `status`, `attempts`, `latency_ms`, `ttft_ms` (streams),
/// `input_tokens`, `output_tokens`, `cost_usd`, plus `targets` (every target that wrote part of
/// the answer, as `provider/model`, in order) and `estimated` (whether the tokens are an estimate).
/// Never a prompt, an answer or a secret.
public struct AccessLog: Sendable {
    private let logger: Logger

    /// An access log writing through `logger`.
    public init(logger: Logger = Logger(label: "multiprodigy.access")) {
        self.logger = logger
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
