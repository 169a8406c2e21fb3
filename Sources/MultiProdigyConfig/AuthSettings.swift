/// `auth:` settings.
public struct AuthSettings: Sendable, Equatable {
    /// `master_key`: when set, every `/v1` call must present it; when empty the gateway is open.
    public var masterKey: String?

    /// Creates auth settings.
    public init(masterKey: String? = nil) {
        self.masterKey = masterKey
    }
}
