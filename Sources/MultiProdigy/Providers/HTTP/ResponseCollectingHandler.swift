import NIOCore
import NIOHTTP1

/// The last handler of a ``PlainHTTPClient`` connection: collects one response at a time and
/// completes the promise of the request in flight.
///
/// Lives on its channel's event loop; every method is called there.
final class ResponseCollectingHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var promise: EventLoopPromise<PlainHTTPResponse>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var maxBodyBytes = 0
    /// Whether any byte of the current response arrived; a reused connection that dies before
    /// that may be retried on a fresh one.
    private(set) var receivedResponseBytes = false

    /// Starts waiting for the response to a request about to be written.
    func expectResponse(_ promise: EventLoopPromise<PlainHTTPResponse>, maxBodyBytes: Int) {
        self.promise = promise
        self.maxBodyBytes = maxBodyBytes
        self.head = nil
        self.body.clear()
        self.receivedResponseBytes = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receivedResponseBytes = true
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var part):
            guard body.readableBytes + part.readableBytes <= maxBodyBytes else {
                fail(NIOTooManyBytesError(maxBytes: maxBodyBytes))
                context.close(promise: nil)
                return
            }
            body.writeBuffer(&part)
        case .end:
            guard let head, let promise else { return }
            self.promise = nil
            self.head = nil
            promise.succeed(
                PlainHTTPResponse(status: head.status, headers: head.headers, body: body, keepsAlive: head.isKeepAlive)
            )
            body = ByteBuffer()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(HTTPClientConnectionClosedError(receivedResponseBytes: receivedResponseBytes))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    /// Fails the request in flight, if any.
    func fail(_ error: any Error) {
        guard let promise else { return }
        self.promise = nil
        promise.fail(error)
    }
}

/// The upstream closed the connection before its response was complete.
struct HTTPClientConnectionClosedError: Error, Sendable {
    /// Whether part of the response had arrived; if not, a reused connection may be retried.
    var receivedResponseBytes: Bool
}
