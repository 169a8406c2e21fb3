/// The upstream closed the connection before its response was complete.
package struct HTTPClientConnectionClosedError: Error, Sendable {
    /// Whether part of the response had arrived; if not, a reused connection may be retried.
    package var receivedResponseBytes: Bool

    /// Creates the error; `receivedResponseBytes` says whether part of the response had arrived.
    package init(receivedResponseBytes: Bool) {
        self.receivedResponseBytes = receivedResponseBytes
    }
}
