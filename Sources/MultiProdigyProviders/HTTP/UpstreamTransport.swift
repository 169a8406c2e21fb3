import Foundation
import MultiProdigyCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The gateway's one HTTP/1.1 client for every upstream: plain and TLS, answers collected whole and
/// answers streamed, with pooled keep-alive connections on each event loop.
///
/// It is built for the gateway's hot paths. A request's head and body are written with a single
/// flush from a prefix serialised once per provider (``UpstreamRequestTemplate``). A whole answer is
/// collected on the connection's event loop and handed straight to the waiting call. A streamed
/// answer is handed to its consumer read by read (``UpstreamResponseBody``), with back-pressure: the
/// connection stops reading while the consumer has not taken what was read. A call picks an idle
/// connection on the caller's own event loop (or opens one there), so the request, the answer and
/// the client's connection stay on one thread.
///
/// Connections are kept alive and reused. A reused connection the upstream closed while idle is
/// detected and the call retried once on a new one, but only when no byte of the answer had arrived.
/// A connection idle for `idleTimeout` is closed by a periodic sweep (see ``IdleConnectionPool``).
/// TLS verifies the upstream's certificate chain and name, against the system's trust roots or a
/// provider's own CA bundle (`ca_file`).
public final class UpstreamTransport: Sendable {
    private struct Connection: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<UpstreamConnectionHandler>
    }

    private struct PoolKey: Hashable, Sendable {
        let origin: UpstreamOrigin
        /// The CA bundle a TLS connection was verified with (nil: the system's roots).
        let trust: String?
    }

    /// Idle connections kept per upstream at most.
    private static let maximumIdlePerUpstream = 256

    private let group: any EventLoopGroup
    private let connectTimeout: TimeAmount
    private let idle: Mutex<IdleConnectionPool<PoolKey, Connection>>
    private let tlsContexts = Mutex<[String: NIOSSLContext]>([:])

    /// A client with no connections yet.
    ///
    /// - Parameters:
    ///   - group: Where connections run.
    ///   - connectTimeout: How long opening a connection (with its TLS handshake) may take.
    ///   - idleTimeout: How long a connection is kept for reuse once idle (`server.upstream_idle_timeout`).
    public init(group: any EventLoopGroup, connectTimeout: TimeAmount, idleTimeout: TimeAmount = .seconds(60)) {
        self.group = group
        self.connectTimeout = connectTimeout
        self.idle = Mutex(IdleConnectionPool(idleTimeout: idleTimeout, maximumPerKey: Self.maximumIdlePerUpstream))
    }

    /// The idle connections kept, for tests.
    var idleConnectionCount: Int { idle.withLock { $0.entries.values.reduce(0) { $0 + $1.count } } }

    /// Closes every idle connection, and those checked in later.
    public func shutdown() {
        let connections = idle.withLock { $0.shutdown() }
        for connection in connections { connection.channel.close(promise: nil) }
    }

    // MARK: TLS

    /// The TLS settings for connections trusting `caFile` (a PEM bundle), or the system's roots
    /// when nil. Contexts are made once per bundle and shared; a bundle changed on disk (a rotated
    /// CA) gets a new context at the next configuration load.
    ///
    /// - Throws: when the bundle cannot be read or holds no certificate.
    func tls(caFile: String?) throws -> UpstreamTLS {
        let modified = caFile.flatMap { try? FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as? Date }
        let key = caFile.map { "\($0)@\(modified?.timeIntervalSince1970 ?? 0)" } ?? ""
        if let context = tlsContexts.withLock({ $0[key] }) { return UpstreamTLS(context: context, caFile: caFile) }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            let certificates = try NIOSSLCertificate.fromPEMFile(caFile)
            guard !certificates.isEmpty else { throw UpstreamTLSError.emptyBundle(caFile) }
            configuration.trustRoots = .certificates(certificates)
        }
        let context = try NIOSSLContext(configuration: configuration)
        tlsContexts.withLock { $0[key] = $0[key] ?? context }
        return UpstreamTLS(context: context, caFile: caFile)
    }

    // MARK: Calls

    /// Sends the request `template` describes with `body` and returns the whole answer.
    ///
    /// - Throws: connection and TLS errors, ``UpstreamDeadlineError`` when `deadline` passes,
    ///   `NIOTooManyBytesError` past `maxResponseBytes`, `CancellationError`.
    func collect(
        _ template: UpstreamRequestTemplate,
        body: ByteBuffer?,
        tls: UpstreamTLS?,
        deadline: NIODeadline,
        maxResponseBytes: Int
    ) async throws -> UpstreamCollectedResponse {
        let request = template.request(with: body, trace: UpstreamTraceHeaders.current)
        let key = PoolKey(origin: template.endpoint.origin, trust: tls?.caFile)
        return try await withPooledConnection(key, tls: tls) { connection in
            let response = try await send(head: template.head, request: request, on: connection, deadline: deadline) {
                handler,
                token,
                answer in
                handler.expectResponse(for: token, maxBodyBytes: maxResponseBytes) { answer.resume(with: $0) }
            }
            if response.keepsAlive {
                checkin(connection, key: key)
            } else {
                connection.channel.close(promise: nil)
            }
            return response
        }
    }

    /// Sends the request `template` describes with `body` and returns the answer's head once it
    /// has arrived, with its body to read as it comes.
    ///
    /// `deadline` bounds the wait for the head; the body is the caller's to time (cancelling the
    /// task reading it, or dropping it unreleased, closes the connection). A body read to its end,
    /// or released and ended soon after, returns the connection to the pool.
    ///
    /// - Throws: connection and TLS errors, ``UpstreamDeadlineError`` when `deadline` passes before
    ///   the head, `CancellationError`.
    func open(
        _ template: UpstreamRequestTemplate,
        body: ByteBuffer?,
        tls: UpstreamTLS?,
        deadline: NIODeadline
    ) async throws -> (head: HTTPResponseHead, body: UpstreamResponseBody) {
        let request = template.request(with: body, trace: UpstreamTraceHeaders.current)
        let key = PoolKey(origin: template.endpoint.origin, trust: tls?.caFile)
        return try await withPooledConnection(key, tls: tls) { connection in
            let storage = UpstreamBodyStorage(handler: connection.handler, eventLoop: connection.channel.eventLoop)
            let head = try await send(head: template.head, request: request, on: connection, deadline: deadline) {
                handler,
                token,
                answer in
                handler.expectStream(for: token, storage: storage, head: { answer.resume(with: $0) }) { [weak self] keepsAlive in
                    if keepsAlive, let self {
                        self.checkin(connection, key: key)
                    } else {
                        connection.channel.close(promise: nil)
                    }
                }
            }
            return (head, UpstreamResponseBody(storage: storage))
        }
    }

    /// Runs `call` on a pooled connection for `key`, again on a new one when a reused connection
    /// turns out to have been closed by the upstream before any byte of the answer arrived (once);
    /// a connection whose call failed otherwise is closed.
    private func withPooledConnection<Answer>(
        _ key: PoolKey,
        tls: UpstreamTLS?,
        _ call: (Connection) async throws -> Answer
    ) async throws -> Answer {
        var retriedStaleConnection = false
        while true {
            let (connection, reused) = try await checkout(key, tls: tls)
            do {
                return try await call(connection)
            } catch let error as HTTPClientConnectionClosedError
                where reused && !error.receivedResponseBytes && !retriedStaleConnection && !Task.isCancelled
            {
                retriedStaleConnection = true
                continue
            } catch {
                connection.channel.close(promise: nil)
                if Task.isCancelled { throw CancellationError() }
                throw error
            }
        }
    }

    /// Writes `request` on `connection` once `expect` has told its handler what to wait for, and
    /// returns what the handler resumes the call with.
    private func send<Answer: Sendable>(
        head: HTTPRequestHead,
        request: ByteBuffer,
        on connection: Connection,
        deadline: NIODeadline,
        expect: @escaping @Sendable (UpstreamConnectionHandler, UpstreamRequestToken, UnsafeContinuation<Answer, any Error>) -> Void
    ) async throws -> Answer {
        let channel = connection.channel
        let handler = connection.handler
        let token = UpstreamRequestToken()
        // A scheduled callback, not a scheduled task: no promise and future per call.
        let timer = try channel.eventLoop.scheduleCallback(at: deadline, handler: DeadlineHandler(handler: handler, request: token))
        defer { timer.cancel() }
        // The answer resumes the call straight from the connection's handler, with no future in
        // between.
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (answer: UnsafeContinuation<Answer, any Error>) in
                let start: @Sendable () -> Void = {
                    // The deadline may have passed already (a slow connect on a busy machine): its
                    // callback then ran before this, with nothing to fail.
                    guard NIODeadline.now() < deadline else {
                        answer.resume(throwing: UpstreamDeadlineError())
                        return
                    }
                    guard !token.isCancelled else {
                        answer.resume(throwing: CancellationError())
                        return
                    }
                    // On the connection's loop, an active channel reports any later failure to the
                    // handler (errorCaught, channelInactive); one that closed since the checkout is
                    // reported here: as a connection that may be retried, or by the TLS handshake
                    // failure that closed it.
                    guard channel.isActive else {
                        answer.resume(throwing: handler.value.closingError ?? HTTPClientConnectionClosedError(receivedResponseBytes: false))
                        return
                    }
                    expect(handler.value, token, answer)
                    channel.write(HTTPClientRequestPart.head(head), promise: nil)
                    // The upstream's silence counts from when the whole request has been sent.
                    let written = channel.eventLoop.makePromise(of: Void.self)
                    channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(request)), promise: written)
                    written.futureResult.whenSuccess { handler.value.requestWritten(token) }
                }
                // Checkout picks a connection on the caller's loop whenever it can, so this is
                // usually a direct call rather than a task queued for the next tick.
                if channel.eventLoop.inEventLoop {
                    start()
                } else {
                    channel.eventLoop.execute(start)
                }
            }
        } onCancel: {
            // Through the handler: the connection may already serve another request.
            token.markCancelled()
            channel.eventLoop.execute { handler.value.cancel(token) }
        }
    }

    /// Fails what a connection's call still waits for when its deadline passes.
    private struct DeadlineHandler: NIOScheduledCallbackHandler, Sendable {
        let handler: NIOLoopBound<UpstreamConnectionHandler>
        let request: UpstreamRequestToken

        func handleScheduledCallback(eventLoop: some EventLoop) {
            handler.value.deadlinePassed(for: request)
        }
    }

    // MARK: The pool

    /// An idle connection on the caller's event loop, else a new connection on that loop; off the
    /// event loops (a caller on another executor), any idle connection.
    ///
    /// The call and its answer then stay on the thread that serves the client. Borrowing an idle
    /// connection from another loop would cost two thread hand-offs per call (the request queued
    /// to that loop, the answer resumed back) and, on an otherwise idle machine, two wake-ups of a
    /// sleeping thread: more than a new connection costs once.
    private func checkout(_ key: PoolKey, tls: UpstreamTLS?) async throws -> (Connection, reused: Bool) {
        let currentLoop = MultiThreadedEventLoopGroup.currentEventLoop
        while let connection = idle.withLock({ idle in
            idle.checkout(key: key) { connection in currentLoop.map { connection.channel.eventLoop === $0 } ?? true }
        }) {
            if connection.channel.isActive { return (connection, true) }
        }
        return (try await connect(key, tls: tls, on: currentLoop ?? group.any()), false)
    }

    private func checkin(_ connection: Connection, key: PoolKey) {
        switch idle.withLock({ $0.checkin(connection, key: key, at: .now()) }) {
        case .keep(sweepAt: nil):
            break
        case .keep(sweepAt: let deadline?):
            scheduleSweep(at: deadline, on: connection.channel.eventLoop)
        case .close:
            connection.channel.close(promise: nil)
        }
    }

    /// Closes the connections idle too long at `deadline`, then schedules the next sweep while any
    /// connection is left. The task holds the client weakly: a client dropped without `shutdown()`
    /// is not kept alive by its sweep.
    private func scheduleSweep(at deadline: NIODeadline, on loop: any EventLoop) {
        loop.scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            let (expired, next) = self.idle.withLock { $0.sweep(at: .now()) }
            for connection in expired { connection.channel.close(promise: nil) }
            if let next { self.scheduleSweep(at: next, on: loop) }
        }
    }

    private func connect(_ key: PoolKey, tls: UpstreamTLS?, on loop: any EventLoop) async throws -> Connection {
        let origin = key.origin
        // SNI and the name check take a host name; an address literal is checked against the
        // certificate's IP addresses instead.
        let serverHostname = (try? SocketAddress(ipAddress: origin.host, port: 0)) == nil ? origin.host : nil
        let handler = try await loop.submit { NIOLoopBound(UpstreamConnectionHandler(), eventLoop: loop) }.get()
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: serverHostname))
                    }
                    try pipeline.addHandler(PrebuiltRequestEncoder())
                    try pipeline.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try pipeline.addHandler(handler.value)
                }
            }
            .connect(host: origin.host, port: origin.port)
            .get()
        return Connection(channel: channel, handler: handler)
    }
}

/// How a TLS connection to an upstream is verified: its context, and the CA bundle it trusts.
struct UpstreamTLS: Sendable {
    /// The shared context.
    let context: NIOSSLContext
    /// The provider's `ca_file`; nil for the system's trust roots.
    let caFile: String?
}

/// A CA bundle that cannot be used.
enum UpstreamTLSError: Error, CustomStringConvertible {
    /// The file holds no PEM certificate.
    case emptyBundle(String)

    var description: String {
        switch self {
        case .emptyBundle(let path): "\(path) holds no PEM certificate"
        }
    }
}
