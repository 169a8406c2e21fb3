import MultiProdigyPrivacy

extension AuthSettings: CustomStringConvertible, CustomDebugStringConvertible {
    /// Whether a master key is set, never the key.
    public var description: String { "AuthSettings(master_key: \(masterKey == nil ? "nil" : SecretScrubber.mask))" }

    /// The same as ``description``: the default would print the key.
    public var debugDescription: String { description }
}
