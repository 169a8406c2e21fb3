/// `server:` settings.
public struct ServerSettings: Sendable, Equatable {
    /// `listen`, host and port (default `127.0.0.1:4100`).
    public var listen: ListenAddress
    /// `max_request_bytes`: larger request bodies get 413 (default `8MiB`).
    public var maxRequestBytes: Int
    /// `max_response_bytes`: largest non-streaming upstream answer accepted (default `32MiB`).
    public var maxResponseBytes: Int
    /// `drain_timeout`: how long SIGTERM waits for in-flight requests before cancelling them (default `60s`).
    public var drainTimeout: Duration

    /// Creates server settings.
    public init(
        listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 4100),
        maxRequestBytes: Int = 8 << 20,
        maxResponseBytes: Int = 32 << 20,
        drainTimeout: Duration = .seconds(60)
    ) {
        self.listen = listen
        self.maxRequestBytes = maxRequestBytes
        self.maxResponseBytes = maxResponseBytes
        self.drainTimeout = drainTimeout
    }
}
