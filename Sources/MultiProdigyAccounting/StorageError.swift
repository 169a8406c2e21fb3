import MultiProdigyConfig
import MultiProdigyRouting

/// The `storage:` setting names a store this build cannot use, or the store could not be opened.
///
/// Its description reads like a configuration problem: what is wrong, then how to fix it.
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, naming the setting or the file.
    public var problem: String
    /// How to fix it.
    public var fix: String

    /// Creates an error.
    public init(problem: String, fix: String) {
        self.problem = problem
        self.fix = fix
    }

    /// `storage: PostgreSQL is not supported yet in this build. Fix: …`
    public var description: String { "\(problem). Fix: \(fix)" }
}
