import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import MultiProdigyCore

/// `GET /health` (the process is up) and `GET /ready` (at least one provider is enabled and not
/// known down by its active health check).
struct HealthHandler: Sendable {
    let providers: [ProviderConfig]
    let board: ProviderHealthBoard

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
        body.writeStaticString("}}")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }
}
