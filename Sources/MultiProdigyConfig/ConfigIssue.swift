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
