import Foundation

/// What a ``KeyDirectory`` keeps of a revoked key: enough to tell its client which key was revoked and when.
struct RevokedKey: Sendable {
    var id: String
    var name: String
    var prefix: String
    /// Seconds since 1970.
    var createdAt: Double
    /// Seconds since 1970.
    var revokedAt: Double

    /// The key as ``KeyDirectory/find(secret:)`` returns it: its identity and times, no settings.
    var key: VirtualKey {
        VirtualKey(
            id: id,
            name: name,
            createdAt: Date(timeIntervalSince1970: createdAt),
            revokedAt: Date(timeIntervalSince1970: revokedAt),
            prefix: prefix
        )
    }
}
