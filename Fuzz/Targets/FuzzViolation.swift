/// A parser broke the property its fuzz target checks: what was expected, and what happened instead.
public struct FuzzViolation: Error, CustomStringConvertible {
    /// The property that failed and how.
    public let description: String

    /// A violation described by `description`.
    public init(_ description: String) {
        self.description = description
    }

    /// Throws a violation described by `message` unless `condition` holds.
    public static func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(FuzzViolation) {
        if !condition { throw FuzzViolation(message()) }
    }
}
