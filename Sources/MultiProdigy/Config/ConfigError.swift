/// One problem found in a configuration file.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    /// Where in the document, such as `routes.auto.targets[2]`.
    public var path: String
    /// The 1-based line in the file, when known.
    public var line: Int?
    /// What is wrong.
    public var problem: String
    /// How to fix it.
    public var fix: String

    /// Creates an issue.
    public init(path: String, line: Int?, problem: String, fix: String) {
        self.path = path
        self.line = line
        self.problem = problem
        self.fix = fix
    }

    /// `line 12: routes.auto.targets[2]: unknown model 'gpt4o'. Fix: …`
    public var description: String {
        let location = line.map { "line \($0): " } ?? ""
        let subject = path.isEmpty ? "" : "\(path): "
        return "\(location)\(subject)\(problem). Fix: \(fix)"
    }
}

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
