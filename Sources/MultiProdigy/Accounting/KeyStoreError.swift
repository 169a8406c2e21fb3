/// A virtual key request that cannot be done: an invalid setting, a taken name, an unknown key.
///
/// The message says what is wrong and how to fix it.
public struct KeyStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, then `Fix: …`.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
