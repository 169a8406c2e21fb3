import Foundation
import MultiProdigyAccounting

/// Values that tests in several targets build alike.
package enum Fixtures {
    /// The checkout's root folder, for files such as `config/gateway.yaml`.
    package static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A fixed instant for ledger rows.
    package static let noon = Date(timeIntervalSince1970: 1_750_000_000)

    /// A usage-ledger row with the given fields and fixed defaults for the rest.
    package static func usageRow(
        _ id: String,
        key: String? = "team-a",
        model: String? = "small",
        provider: String? = "fake",
        route: String = "auto",
        tokens: (Int, Int) = (10, 5),
        cost: Double = 0.25,
        latency: Double = 0.1,
        status: Int = 200,
        at time: Date = noon
    ) -> UsageRecord {
        UsageRecord(
            time: time,
            requestID: id,
            keyName: key,
            endpoint: "chat",
            route: route,
            provider: provider,
            model: model,
            promptTokens: tokens.0,
            completionTokens: tokens.1,
            costUSD: cost,
            latencySeconds: latency,
            timeToFirstTokenSeconds: 0.05,
            status: status,
            attempts: 1
        )
    }

    /// The status lines (`HTTP/1.1 200 OK`) in `text`, in order; a body without a line end may
    /// run straight into the next one.
    package static func statusLines(in text: String) -> [String] {
        text.matches(of: /(HTTP\/1\.[01] \d{3} [^\r]*)\r\n/).map { String($0.output.1) }
    }
}
