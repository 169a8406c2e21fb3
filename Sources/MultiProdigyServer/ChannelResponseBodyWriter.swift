import HTTPTypes
import Hummingbird
import MultiProdigyAccounting
import NIOCore

/// Writes a response body straight to its client's channel (see ``GatewayHTTPHandler``).
///
/// A body of known length (a buffered answer) is flushed once, with its end, so head and body leave
/// in one `writev`. A body of unknown length (a stream) is flushed chunk by chunk, so each event
/// reaches the client as it is written; while the client reads slower than the gateway writes (the
/// channel is not writable), each write waits until its bytes are handed to the socket.
struct ChannelResponseBodyWriter: ResponseBodyWriter {
    /// The client's connection.
    let channel: any Channel
    /// Whether each write is flushed: true for bodies of unknown length.
    let flushesEachWrite: Bool

    mutating func write(_ buffer: ByteBuffer) async throws {
        // A client that went away ends the body here, as the handlers expect.
        guard channel.isActive else { throw ChannelError.ioOnClosedChannel }
        let part = ResponsePart.body(buffer)
        guard flushesEachWrite else {
            channel.write(part, promise: nil)
            return
        }
        if channel.isWritable {
            channel.writeAndFlush(part, promise: nil)
        } else {
            let written = channel.eventLoop.makePromise(of: Void.self)
            channel.writeAndFlush(part, promise: written)
            try await written.futureResult.get()
        }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        channel.writeAndFlush(ResponsePart.end(trailingHeaders), promise: nil)
    }
}
