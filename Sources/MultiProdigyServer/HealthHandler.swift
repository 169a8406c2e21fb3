import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting

/// `GET /health` (the process is up) and `GET /ready` (at least one provider is enabled and not
/// known down by its active health check).
///
/// `/ready` also reports the database (`storage`): its engine, whether its last call succeeded,
/// for how long it has been failing, and the usage rows waiting in the journal. A database that
/// does not answer does not make the gateway unready: it keeps serving (`storage.on_unavailable`),
/// and a load balancer that took every replica out at once would stop all traffic.
struct HealthHandler: Sendable {
    let providers: [ProviderConfig]
    let board: ProviderHealthBoard
    /// The usage ledger, whose database and backlog `/ready` reports.
    let ledger: UsageLedger
    /// Masks known secrets (the database password among them) in the database's last error, which
    /// `/ready`, a public endpoint, shows.
    let scrubber: SecretScrubber

    func health() -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}"))
        )
    }

    func ready() throws -> Response {
        let enabled = providers.filter(\.isEnabled).map(\.name)
        guard !enabled.isEmpty else {
            let reasons = providers.map { "\($0.name): \($0.disabledReason ?? "enabled")" }.joined(separator: "; ")
            throw GatewayError(
                status: .serviceUnavailable,
                message: providers.isEmpty
                    ? "No provider is configured. Add one under providers: in the config."
                    : "No provider is enabled. \(reasons).",
                type: "upstream_error",
                code: "no_provider_enabled"
            )
        }
        let down = enabled.compactMap { name in board.downReason(for: name).map { (name, $0) } }
        guard down.count < enabled.count else {
            let reasons = down.map { "\($0.0): \($0.1)" }.joined(separator: "; ")
            throw GatewayError(
                status: .serviceUnavailable,
                message: "Every enabled provider failed its health check. \(reasons).",
                type: "upstream_error",
                code: "no_provider_healthy"
            )
        }
        var body = ByteBuffer()
        body.writeStaticString("{\"status\":\"ready\",\"providers_enabled\":[")
        for (index, name) in enabled.enumerated() {
            if index > 0 { body.writeStaticString(",") }
            JSONWriter.writeString(name, into: &body)
        }
        body.writeStaticString("],\"providers_down\":{")
        for (index, (name, reason)) in down.enumerated() {
            if index > 0 { body.writeStaticString(",") }
            JSONWriter.writeString(name, into: &body)
            body.writeStaticString(":")
            JSONWriter.writeString(reason, into: &body)
        }
        body.writeStaticString("},\"storage\":")
        writeStorage(into: &body)
        body.writeStaticString("}")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }

    /// `{"engine": "sqlite"|"postgres", "state": "available"|"unavailable", "failing_for_seconds", "last_error", "journal_backlog_rows"}`.
    private func writeStorage(into body: inout ByteBuffer) {
        let database = ledger.database
        let health = database.health.snapshot
        body.writeStaticString(database.isShared ? "{\"engine\":\"postgres\",\"state\":" : "{\"engine\":\"sqlite\",\"state\":")
        body.writeStaticString(health.isAvailable ? "\"available\"" : "\"unavailable\"")
        if let since = health.failingSince {
            body.writeString(",\"failing_for_seconds\":\(Int((ContinuousClock.now - since).seconds))")
        }
        if !health.isAvailable, let error = health.lastError {
            body.writeStaticString(",\"last_error\":")
            JSONWriter.writeString(scrubber.scrub(error), into: &body)
        }
        body.writeString(",\"journal_backlog_rows\":\(ledger.backlogRows)}")
    }
}
