/// The call's deadline passed before the whole answer arrived.
package struct PlainHTTPDeadlineError: Error, Sendable {
    /// Creates the error.
    package init() {}
}
