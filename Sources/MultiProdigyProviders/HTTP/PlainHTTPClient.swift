import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A lean, pooled HTTP/1.1 client for non-streaming calls to plain-HTTP upstreams (the local
/// servers: vLLM, llama.cpp, Ollama, TGI).
///
/// It exists for speed on the gateway's hottest path: the head and body written with a single
/// flush, the answer collected on the connection's event loop and handed straight to the waiting
/// call. HTTPS and streaming calls go through AsyncHTTPClient.
///
/// Connections are kept alive and reused. A reused connection the upstream closed while idle is
/// detected and the call retried once on a new one, but only when no byte of the answer had arrived.
/// A connection idle for `idleTimeout` is closed by a periodic sweep (see ``IdleConnectionPool``),
/// so an upstream does not hold sockets for a gateway that has stopped calling it.
package final class PlainHTTPClient: Sendable {
    private struct Connection: Sendable {
        let channel: any Channel
        let collector: NIOLoopBound<ResponseCollectingHandler>
    }

    private struct PoolKey: Hashable, Sendable {
        let host: String
        let port: Int
    }

    /// Idle connections kept per upstream at most.
    private static let maximumIdlePerUpstream = 256

    private let group: any EventLoopGroup
    private let connectTimeout: TimeAmount
    private let idle: Mutex<IdleConnectionPool<PoolKey, Connection>>

    /// A client with no connections yet.
    ///
    /// - Parameters:
    ///   - group: Where connections run.
    ///   - connectTimeout: How long opening a connection may take.
    ///   - idleTimeout: How long a connection is kept for reuse once idle (`server.upstream_idle_timeout`).
    package init(group: any EventLoopGroup, connectTimeout: TimeAmount, idleTimeout: TimeAmount = .seconds(60)) {
        self.group = group
        self.connectTimeout = connectTimeout
        self.idle = Mutex(IdleConnectionPool(idleTimeout: idleTimeout, maximumPerKey: Self.maximumIdlePerUpstream))
    }

    /// The idle connections kept, for tests.
    var idleConnectionCount: Int { idle.withLock { $0.entries.values.reduce(0) { $0 + $1.count } } }

    /// Sends `POST` with `body` as `template` describes and returns the whole answer.
    ///
    /// - Throws: connection errors as SwiftNIO reports them, ``PlainHTTPDeadlineError`` when
    ///   `deadline` passes, `NIOTooManyBytesError` past `maxResponseBytes`, `CancellationError`.
    func post(
        _ template: PlainHTTPRequestTemplate,
        body: ByteBuffer,
        deadline: NIODeadline,
        maxResponseBytes: Int
    ) async throws -> PlainHTTPResponse {
        let request = template.request(with: body)
        let key = PoolKey(host: template.endpoint.host, port: template.endpoint.port)
        var retriedStaleConnection = false
        while true {
            let (connection, reused) = try await checkout(key)
            do {
                let response = try await send(
                    head: template.head,
                    request: request,
                    on: connection,
                    deadline: deadline,
                    maxResponseBytes: maxResponseBytes
                )
                if response.keepsAlive {
                    checkin(connection, key: key)
                } else {
                    connection.channel.close(promise: nil)
                }
                return response
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

    /// Closes every idle connection, and those checked in later.
    package func shutdown() {
        let connections = idle.withLock { $0.shutdown() }
        for connection in connections { connection.channel.close(promise: nil) }
    }

    private func send(
        head: HTTPRequestHead,
        request: ByteBuffer,
        on connection: Connection,
        deadline: NIODeadline,
        maxResponseBytes: Int
    ) async throws -> PlainHTTPResponse {
        let channel = connection.channel
        let collector = connection.collector
        // A scheduled callback, not a scheduled task: no promise and future per call.
        let timer = try channel.eventLoop.scheduleCallback(at: deadline, handler: DeadlineHandler(channel: channel, collector: collector))
        defer { timer.cancel() }
        // The answer resumes the call straight from the connection's handler, with no future in
        // between.
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (answer: UnsafeContinuation<PlainHTTPResponse, any Error>) in
                let start: @Sendable () -> Void = {
                    // On the connection's loop, an active channel reports any later failure to the
                    // collector (errorCaught, channelInactive); one that closed since the checkout
                    // is reported here, as a connection that may be retried.
                    guard channel.isActive else {
                        // Closed by the deadline, or by the upstream since the checkout.
                        let closed: any Error =
                            NIODeadline.now() >= deadline
                            ? PlainHTTPDeadlineError() : HTTPClientConnectionClosedError(receivedResponseBytes: false)
                        answer.resume(throwing: closed)
                        return
                    }
                    collector.value.expectResponse(maxBodyBytes: maxResponseBytes) { answer.resume(with: $0) }
                    channel.write(HTTPClientRequestPart.head(head), promise: nil)
                    channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(request)), promise: nil)
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
            channel.close(promise: nil)
        }
    }

    /// Fails the call in flight on a connection when its deadline passes, and closes the connection.
    private struct DeadlineHandler: NIOScheduledCallbackHandler, Sendable {
        let channel: any Channel
        let collector: NIOLoopBound<ResponseCollectingHandler>

        func handleScheduledCallback(eventLoop: some EventLoop) {
            collector.value.fail(PlainHTTPDeadlineError())
            channel.close(promise: nil)
        }
    }

    /// An idle connection on the caller's event loop, else a new connection on that loop; off the
    /// event loops (a caller on another executor), any idle connection.
    ///
    /// The call and its answer then stay on the thread that serves the client. Borrowing an idle
    /// connection from another loop would cost two thread hand-offs per call (the request queued
    /// to that loop, the answer resumed back) and, on an otherwise idle machine, two wake-ups of a
    /// sleeping thread: more than a new connection costs once.
    private func checkout(_ key: PoolKey) async throws -> (Connection, reused: Bool) {
        let currentLoop = MultiThreadedEventLoopGroup.currentEventLoop
        while let connection = idle.withLock({ idle in
            idle.checkout(key: key) { connection in currentLoop.map { connection.channel.eventLoop === $0 } ?? true }
        }) {
            if connection.channel.isActive { return (connection, true) }
        }
        return (try await connect(key, on: currentLoop ?? group.any()), false)
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

    private func connect(_ key: PoolKey, on loop: any EventLoop) async throws -> Connection {
        let collector = try await loop.submit { NIOLoopBound(ResponseCollectingHandler(), eventLoop: loop) }.get()
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(PrebuiltRequestEncoder())
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes))
                    )
                    try channel.pipeline.syncOperations.addHandler(collector.value)
                }
            }
            .connect(host: key.host, port: key.port)
            .get()
        return Connection(channel: channel, collector: collector)
    }

}
