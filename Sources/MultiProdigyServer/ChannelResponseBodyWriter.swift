import HTTPTypes
import Hummingbird
import MultiProdigyAccounting
import NIOCore
import Synchronization

/// Writes a response body straight to its client's channel (see ``GatewayHTTPHandler``).
///
/// A body of known length (a buffered answer) is flushed once, with its end, so head and body leave
/// in one `writev`. A body of unknown length (a stream) is flushed as soon as the task writing it
/// pauses: each write queues a flush on the channel's event loop unless one is queued already, so
/// the events that one upstream read brought leave in one `writev`, and none waits for more. While
/// the client reads slower than the gateway writes (the channel is not writable), each write waits
/// until its bytes are handed to the socket.
struct ChannelResponseBodyWriter: ResponseBodyWriter {
    /// The client's connection.
    let channel: any Channel
    /// Whether writes are flushed as they come: true for bodies of unknown length.
    let flushesEachWrite: Bool
    /// Whether a flush is queued on the channel's loop.
    private let flushQueued = FlushFlag()

    /// A writer for `channel`; `flushesEachWrite` for a body of unknown length.
    init(channel: any Channel, flushesEachWrite: Bool) {
        self.channel = channel
        self.flushesEachWrite = flushesEachWrite
    }

    /// Set while a flush is queued, so the writes before it share it; read and written on the
    /// channel's loop only.
    private final class FlushFlag: Sendable {
        let isSet = Atomic(false)
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        // A client that went away ends the body here, as the handlers expect.
        guard channel.isActive else { throw ChannelError.ioOnClosedChannel }
        let part = ResponsePart.body(buffer)
        guard flushesEachWrite else {
            channel.write(part, promise: nil)
            return
        }
        if channel.isWritable {
            // The write and the check for a queued flush happen on the channel's loop, in order:
            // the flush then runs after every write queued before it, and a write that comes
            // after a flush ran queues the next one.
            let channel = channel
            let flag = flushQueued
            let write: @Sendable () -> Void = {
                channel.write(part, promise: nil)
                guard !flag.isSet.exchange(true, ordering: .relaxed) else { return }
                channel.eventLoop.execute {
                    flag.isSet.store(false, ordering: .relaxed)
                    channel.flush()
                }
            }
            if channel.eventLoop.inEventLoop {
                write()
            } else {
                channel.eventLoop.execute(write)
            }
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
