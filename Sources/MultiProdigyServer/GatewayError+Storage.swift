import MultiProdigyAccounting
import MultiProdigyCore

extension GatewayError {
    /// The 503 `storage_unavailable` of a master-key page whose database call failed: `summary`, then the
    /// database's own words (the caller holds the master key, so they may name hosts), then `hint`.
    static func storageUnavailable(_ summary: String, error: any Error, hint: String = "") -> GatewayError {
        GatewayError(
            status: .serviceUnavailable,
            message: "\(summary): \(GatewayDatabase.describe(error)).\(hint.isEmpty ? "" : " " + hint)",
            type: "server_error",
            code: "storage_unavailable"
        )
    }
}
