import MultiProdigyCore
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The last handler of an ``UpstreamTransport`` connection: serves one response at a time, either
/// collected whole (``expectResponse(maxBodyBytes:completion:)``) or streamed
/// (``expectStream(storage:head:ended:)``).
///
/// Lives on its channel's event loop; every method is called there. A streamed answer is handed to
/// its ``UpstreamBodyStorage`` read by read, and the handler holds back the socket's next read
/// while the consumer has not taken what was read (back-pressure from the client to the upstream).
final class UpstreamConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// Receives the whole response, or why there is none; called once.
    typealias Completion = (Result<UpstreamCollectedResponse, any Error>) -> Void
    /// Receives a streamed response's head, or why there is none; called once.
    typealias HeadCompletion = (Result<HTTPResponseHead, any Error>) -> Void

    private enum Mode {
        /// No response expected.
        case idle
        /// Collecting a whole response.
        case collecting(Completion, maxBodyBytes: Int)
        /// Streaming: waiting for the head.
        case awaitingHead(HeadCompletion, UpstreamBodyStorage, ended: (Bool) -> Void)
        /// Streaming the body; `ended` learns, at the end, whether the connection may be reused.
        case streaming(UpstreamBodyStorage, keepsAlive: Bool, ended: (Bool) -> Void)
    }

    private var mode = Mode.idle
    /// The request the current response answers: a deadline or a cancellation meant for an earlier
    /// request on this connection (one that already ended and gave the connection back) does not
    /// touch the next.
    private var request: UpstreamRequestToken?
    private var context: ChannelHandlerContext?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    /// A read the handler held back for a consumer that had not taken what was read.
    private var readWithheld = false
    /// Whether any byte of the current response arrived; a reused connection that dies before
    /// that may be retried on a fresh one.
    private(set) var receivedResponseBytes = false
    /// Since when the upstream has sent nothing of the current answer's body: the moment the request
    /// had been written whole, then each body read. A close that comes long after it is a silent
    /// target (``UpstreamSilentCloseError``), not a reset, whether or not a head came first. Nil
    /// until the request is written (a close during the TLS handshake or the upload is a reset,
    /// whatever it took).
    private var silentSince: NIODeadline?
    /// The error that closed the connection while no request was waiting (a TLS handshake that
    /// failed before the request was handed over): the reason the next request is given.
    private(set) var closingError: (any Error)?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Starts waiting for the whole response to `request`, about to be written.
    func expectResponse(for request: UpstreamRequestToken? = nil, maxBodyBytes: Int, completion: @escaping Completion) {
        self.request = request
        mode = .collecting(completion, maxBodyBytes: maxBodyBytes)
        head = nil
        body.clear()
        receivedResponseBytes = false
        silentSince = nil
    }

    /// Starts waiting for a response to be streamed into `storage`: `head` gets its head, and
    /// `ended` learns, once the body has ended, whether the connection may carry another request.
    func expectStream(
        for request: UpstreamRequestToken? = nil,
        storage: UpstreamBodyStorage,
        head: @escaping HeadCompletion,
        ended: @escaping (Bool) -> Void
    ) {
        self.request = request
        mode = .awaitingHead(head, storage, ended: ended)
        receivedResponseBytes = false
        silentSince = nil
    }

    /// `request` has been written whole: the upstream's silence counts from now, unless part of
    /// its body came already (a head does not end a silence).
    func requestWritten(_ request: UpstreamRequestToken?) {
        guard request === self.request, silentSince == nil else { return }
        if case .idle = mode { return }
        silentSince = .now()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receivedResponseBytes = true
        let part = unwrapInboundIn(data)
        if case .body = part, silentSince != nil { silentSince = .now() }
        switch mode {
        case .idle:
            // Bytes nobody asked for: the connection cannot be trusted with another request.
            context.close(promise: nil)
        case .collecting(let completion, let maxBodyBytes):
            collect(part, completion: completion, maxBodyBytes: maxBodyBytes, context: context)
        case .awaitingHead(let headCompletion, let storage, let ended):
            switch part {
            case .head(let head):
                mode = .streaming(storage, keepsAlive: head.isKeepAlive, ended: ended)
                headCompletion(.success(head))
            case .body, .end:
                // The decoder always reports a head first.
                mode = .idle
                headCompletion(.failure(HTTPClientConnectionClosedError(receivedResponseBytes: true)))
                context.close(promise: nil)
            }
        case .streaming(let storage, let keepsAlive, let ended):
            switch part {
            case .head:
                break
            case .body(let bytes):
                storage.append(bytes)
            case .end:
                mode = .idle
                storage.finish()
                ended(keepsAlive)
            }
        }
    }

    private func collect(_ part: HTTPClientResponsePart, completion: Completion, maxBodyBytes: Int, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            self.head = head
        case .body(var bytes):
            guard body.readableBytes + bytes.readableBytes <= maxBodyBytes else {
                fail(NIOTooManyBytesError(maxBytes: maxBodyBytes))
                context.close(promise: nil)
                return
            }
            body.writeBuffer(&bytes)
        case .end:
            guard let head else { return }
            mode = .idle
            self.head = nil
            let response = UpstreamCollectedResponse(status: head.status, headers: head.headers, body: body, keepsAlive: head.isKeepAlive)
            body = ByteBuffer()
            completion(.success(response))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .streaming(let storage, _, _) = mode { storage.deliver() }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if case .streaming(let storage, _, _) = mode, storage.withholdsRead() {
            readWithheld = true
            return
        }
        context.read()
    }

    /// The consumer of `storage` took what was read: read again if a read was held back for it.
    func resumeReading(for storage: UpstreamBodyStorage) {
        guard readWithheld, let context else { return }
        if case .streaming(let current, _, _) = mode, current !== storage { return }
        readWithheld = false
        context.read()
    }

    /// The consumer of `storage` gave up on it: close the connection if it still serves it.
    func abandon(_ storage: UpstreamBodyStorage) {
        switch mode {
        case .awaitingHead(_, let current, _), .streaming(let current, _, _):
            guard current === storage else { return }
            fail(CancellationError())
            context?.close(promise: nil)
        case .idle, .collecting:
            break
        }
    }

    /// The deadline of `request` passed: fail its response if still waited for (a collected one,
    /// or a stream's head) and close the connection. A stream whose head arrived is the relay's
    /// to time.
    func deadlinePassed(for request: UpstreamRequestToken) {
        guard request === self.request else { return }
        switch mode {
        case .collecting, .awaitingHead:
            fail(UpstreamDeadlineError())
            context?.close(promise: nil)
        case .idle, .streaming:
            break
        }
    }

    /// The task waiting for `request` was cancelled: fail it and close the connection, unless the
    /// connection has moved on to another request.
    func cancel(_ request: UpstreamRequestToken) {
        guard request === self.request else { return }
        if case .idle = mode { return }
        fail(CancellationError())
        context?.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(closedError())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .idle = mode, closingError == nil, !Self.isPeerClose(error) { closingError = error }
        // The decoder saw bytes of a response (a head cut short, say): the request was answered in
        // part, so it is not one a fresh connection may send again.
        if error is HTTPParserError { receivedResponseBytes = true }
        // A reset (or a TLS peer closing without its close_notify) is a connection the upstream
        // closed: one reused from the pool may be retried when no byte of the answer came, and a
        // long silence before it makes it a silent target.
        fail(Self.isPeerClose(error) ? closedError(error) : error)
        context.close(promise: nil)
    }

    /// Why the response in flight ended when the upstream closed the connection (`peerError`, the
    /// reset that said so, if any): silence when no byte of the body came for
    /// ``UpstreamSilentCloseError/threshold`` or longer, else an early close (which a reused
    /// connection may retry when no byte came at all).
    private func closedError(_ peerError: (any Error)? = nil) -> any Error {
        if let silentSince {
            let silence = Duration(NIODeadline.now() - silentSince)
            if silence >= UpstreamSilentCloseError.threshold { return UpstreamSilentCloseError(silence: silence) }
        }
        if receivedResponseBytes, let peerError { return peerError }
        return HTTPClientConnectionClosedError(receivedResponseBytes: receivedResponseBytes)
    }

    /// Whether `error` says the peer closed or reset the connection (a close in the middle of a
    /// response's body reaches the handler as the decoder's `invalidEOFState`).
    static func isPeerClose(_ error: any Error) -> Bool {
        if let error = error as? IOError { return error.errnoCode == ECONNRESET || error.errnoCode == EPIPE }
        if let error = error as? NIOSSLError, case .uncleanShutdown = error { return true }
        if let error = error as? HTTPParserError, error == .invalidEOFState { return true }
        return false
    }

    /// Fails the response in flight, if any.
    func fail(_ error: any Error) {
        let current = mode
        mode = .idle
        silentSince = nil
        switch current {
        case .idle:
            break
        case .collecting(let completion, _):
            completion(.failure(error))
        case .awaitingHead(let headCompletion, let storage, _):
            storage.fail(error)
            headCompletion(.failure(error))
        case .streaming(let storage, _, _):
            storage.fail(error)
        }
    }
}

/// One request on an upstream connection, by identity: what a deadline or a cancellation is for.
final class UpstreamRequestToken: Sendable {
    private let cancelled = Atomic(false)

    /// Whether the task that made the request was cancelled.
    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Notes that the task that made the request was cancelled.
    func markCancelled() { cancelled.store(true, ordering: .releasing) }
}
