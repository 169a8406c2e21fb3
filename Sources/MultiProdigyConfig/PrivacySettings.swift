/// `privacy:` settings.
public struct PrivacySettings: Sendable, Equatable {
    /// `detect_pii`: restrict prompts that carry personal data to local targets.
    public var detectPII: Bool

    /// Creates privacy settings.
    public init(detectPII: Bool = true) {
        self.detectPII = detectPII
    }
}
