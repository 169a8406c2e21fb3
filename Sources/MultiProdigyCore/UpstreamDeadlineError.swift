/// The call's deadline passed before the whole answer arrived.
package struct UpstreamDeadlineError: Error, Sendable {
    /// Creates the error.
    package init() {}
}
