/// `server:` settings.
///
/// The limits that guard the front door (time to read a head, time to read a body, keep-alive idle
/// time, how many connections) and what one request or stream may hold in memory.
public struct ServerSettings: Sendable, Equatable {
    /// `listen`, host and port (default `127.0.0.1:4100`).
    public var listen: ListenAddress
    /// `max_request_bytes`: larger request bodies get 413 (default `8MiB`).
    public var maxRequestBytes: Int
    /// `max_response_bytes`: largest non-streaming upstream answer accepted (default `32MiB`).
    public var maxResponseBytes: Int
    /// `drain_timeout`: how long SIGTERM waits for in-flight requests before cancelling them (default `60s`).
    public var drainTimeout: Duration
    /// `head_timeout`: how long a client may take to send a request's head, from its first byte
    /// (default `10s`); past it the connection gets 408 and is closed.
    public var headTimeout: Duration
    /// `body_timeout`: how long a client may take to send a request's whole body, from the end of its
    /// head (default `60s`); past it the connection gets 408 and is closed.
    public var bodyTimeout: Duration
    /// `idle_timeout`: how long a connection may wait for its next request, before the first or
    /// between keep-alive requests (default `60s`); past it the connection is closed.
    public var idleTimeout: Duration
    /// `max_connections`: client connections served at once (default `4096`); one more gets 503 and
    /// is closed.
    public var maxConnections: Int
    /// `max_stream_transcript_bytes`: how much of a stream's text is kept so that another target can
    /// continue it after a cut (default `1MiB`); a longer stream still relays, but is no longer
    /// continued.
    public var maxStreamTranscriptBytes: Int
    /// `upstream_idle_timeout`: how long an idle connection to an upstream is kept for reuse
    /// (default `60s`).
    public var upstreamIdleTimeout: Duration
    /// `log_format`: `text` (default) or `json`, which also writes one access-log line per
    /// request. Read at start; `multiprodigy serve --log-format` overrides it.
    public var logFormat: LogFormat

    /// Creates server settings.
    public init(
        listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 4100),
        maxRequestBytes: Int = 8 << 20,
        maxResponseBytes: Int = 32 << 20,
        drainTimeout: Duration = .seconds(60),
        headTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(60),
        idleTimeout: Duration = .seconds(60),
        maxConnections: Int = 4096,
        maxStreamTranscriptBytes: Int = 1 << 20,
        upstreamIdleTimeout: Duration = .seconds(60),
        logFormat: LogFormat = .text
    ) {
        self.logFormat = logFormat
        self.listen = listen
        self.maxRequestBytes = maxRequestBytes
        self.maxResponseBytes = maxResponseBytes
        self.drainTimeout = drainTimeout
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.maxStreamTranscriptBytes = maxStreamTranscriptBytes
        self.upstreamIdleTimeout = upstreamIdleTimeout
    }
}
