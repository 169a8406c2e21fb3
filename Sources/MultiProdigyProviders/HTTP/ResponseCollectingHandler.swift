import MultiProdigyJSON
import MultiProdigyCore
import NIOCore
import NIOHTTP1

/// The last handler of a ``PlainHTTPClient`` connection: collects one response at a time and
/// hands it to the request in flight.
///
/// Lives on its channel's event loop; every method is called there.
final class ResponseCollectingHandler: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPClientResponsePart

    /// Receives the whole response, or why there is none; called once.
    typealias Completion = (Result<PlainHTTPResponse, any Error>) -> Void

    private var completion: Completion?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var maxBodyBytes = 0
    /// Whether any byte of the current response arrived; a reused connection that dies before
    /// that may be retried on a fresh one.
    package private(set) var receivedResponseBytes = false

    /// Starts waiting for the response to a request about to be written.
    func expectResponse(maxBodyBytes: Int, completion: @escaping Completion) {
        self.completion = completion
        self.maxBodyBytes = maxBodyBytes
        self.head = nil
        self.body.clear()
        self.receivedResponseBytes = false
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
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
            guard let head, let completion else { return }
            self.completion = nil
            self.head = nil
            let response = PlainHTTPResponse(status: head.status, headers: head.headers, body: body, keepsAlive: head.isKeepAlive)
            body = ByteBuffer()
            completion(.success(response))
        }
    }

    package func channelInactive(context: ChannelHandlerContext) {
        fail(HTTPClientConnectionClosedError(receivedResponseBytes: receivedResponseBytes))
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    /// Fails the request in flight, if any.
    package func fail(_ error: any Error) {
        guard let completion else { return }
        self.completion = nil
        completion(.failure(error))
    }
}
