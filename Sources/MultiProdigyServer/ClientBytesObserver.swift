import MultiProdigyRouting
import NIOCore

/// Tells a connection's ``GatewayHTTPHandler`` that bytes came from the client, before the HTTP
/// decoder has made a request part of them: the first bytes of a head start `server.head_timeout`,
/// which a client that sends half a head would otherwise never meet.
///
/// It sits in front of the decoder and passes every read through unchanged.
final class ClientBytesObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let handler: GatewayHTTPHandler

    /// Observes reads for `handler`, which must be in the same pipeline.
    init(for handler: GatewayHTTPHandler) {
        self.handler = handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        handler.clientSentBytes()
        context.fireChannelRead(data)
    }
}
