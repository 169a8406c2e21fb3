import MultiProdigyConfig
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
}
