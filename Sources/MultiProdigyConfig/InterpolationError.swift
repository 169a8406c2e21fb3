/// A malformed `${…}` reference.
public struct InterpolationError: Error, Sendable, Equatable {
    /// What is wrong with the reference.
    public var message: String
}
