/// Why a byte sequence is not valid JSON.
public struct JSONSyntaxError: Error, Sendable, Equatable {
    /// Offset of the first byte that could not be accepted.
    public var offset: Int
    /// What was wrong, in words a client can act on.
    public var reason: String
}
