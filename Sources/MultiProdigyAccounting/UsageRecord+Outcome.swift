import Foundation
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

extension UsageRecord {
    /// The ledger row of a request that finished now.
    ///
    /// The key is the virtual key's name, `master` for the master key, nil on an open gateway; the
    /// model is the declared name of the target that answered (or was tried last).
    init(_ outcome: RequestOutcome, time: Date = Date()) {
        let usage = outcome.usage ?? .zero
        self.init(
            time: time,
            requestID: outcome.requestID,
            keyName: outcome.keyName == GatewayMetrics.none ? nil : outcome.keyName,
            endpoint: outcome.endpoint,
            route: outcome.route ?? "-",
            provider: outcome.target?.providerName,
            model: outcome.target?.name,
            promptTokens: usage.promptTokens,
            completionTokens: usage.completionTokens,
            costUSD: outcome.costUSD ?? 0,
            latencySeconds: outcome.duration.seconds,
            timeToFirstTokenSeconds: outcome.timeToFirstToken?.seconds,
            status: outcome.status,
            attempts: outcome.attempts,
            path: outcome.path.isEmpty ? nil : outcome.path
        )
    }
}
