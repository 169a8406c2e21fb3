import MultiProdigyPrivacy

/// A configuration that cannot be used, with every problem found.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// The file (or other source) that was read.
    public var source: String
    /// The problems, in document order.
    public var issues: [ConfigIssue]

    /// Creates an error.
    public init(source: String, issues: [ConfigIssue]) {
        self.source = source
        self.issues = issues
    }

    /// A multi-line report naming the file, then each problem.
    public var description: String {
        let plural = issues.count == 1 ? "problem" : "problems"
        return "\(source): \(issues.count) configuration \(plural):\n"
            + issues.map { "  - \($0.description)" }.joined(separator: "\n")
    }
}
