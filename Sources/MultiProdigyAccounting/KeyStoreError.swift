import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyRouting

/// A virtual key request that cannot be done: an invalid setting, a taken name, an unknown key.
///
/// The message says what is wrong and how to fix it.
public struct KeyStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, then `Fix: …`.
    public var message: String
    /// Whether no key has the name or id asked for (rather than a setting being wrong).
    public var isUnknownKey: Bool

    /// Creates an error.
    public init(_ message: String, isUnknownKey: Bool = false) {
        self.message = message
        self.isUnknownKey = isUnknownKey
    }

    /// The message.
    public var description: String { message }

    /// A valid key already has the name `name`.
    static func nameInUse(_ name: String) -> KeyStoreError {
        KeyStoreError(
            "a key named '\(name)' already exists. Fix: choose another name, or revoke it first (multiprodigy keys revoke \(name))"
        )
    }

    /// The key named or numbered `nameOrID` was revoked before.
    static func alreadyRevoked(_ nameOrID: String) -> KeyStoreError {
        KeyStoreError(
            "the key '\(EchoedName.shortened(nameOrID))' is already revoked. Fix: nothing to do; 'multiprodigy keys list --all' shows it"
        )
    }

    /// No key has the name or id `nameOrID`.
    static func unknownKey(_ nameOrID: String) -> KeyStoreError {
        KeyStoreError(
            "no key has the name or id '\(EchoedName.shortened(nameOrID))'. Fix: 'multiprodigy keys list' shows the keys",
            isUnknownKey: true
        )
    }
}
