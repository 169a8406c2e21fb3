import NIOCore
import NIOHTTP1
import Synchronization

/// An upstream that answers every request with a whole event stream in one write, then (after
/// `tail`, more body bytes) ends the chunked body only `endDelay` later, as real servers often do
/// after their last event; it counts the connections it accepted and those closed, to tell
/// whether the gateway reused or closed one.
final class LateEndUpstream: Sendable {
    private final class Counts: Sendable {
        let state = Mutex<(accepted: Int, closed: Int, requests: Int)>((0, 0, 0))
    }

    private let counts = Counts()
    private let events: String
    private let tail: String
    private let endDelay: TimeAmount

    /// An upstream that sends `events` (SSE text), then `tail`, then the body's end after `endDelay`.
    init(events: String, tail: String = "", endDelay: TimeAmount = .milliseconds(150)) {
        self.events = events
        self.tail = tail
        self.endDelay = endDelay
    }

    /// Connections accepted so far.
    var accepted: Int { counts.state.withLock { $0.accepted } }
    /// Connections closed so far (by either side).
    var closed: Int { counts.state.withLock { $0.closed } }
    /// Requests answered so far.
    var requests: Int { counts.state.withLock { $0.requests } }

    /// Serves until the task is cancelled, reporting the bound port first.
    func run(onPort: @escaping @Sendable (Int) async -> Void) async throws {
        try await LoopbackHTTPServer.run(onPort: onPort) { [counts, events, tail, endDelay] in
            Answerer(counts: counts, events: events, tail: tail, endDelay: endDelay)
        }
    }

    private final class Answerer: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let counts: Counts
        let events: String
        let tail: String
        let endDelay: TimeAmount

        init(counts: Counts, events: String, tail: String, endDelay: TimeAmount) {
            self.counts = counts
            self.events = events
            self.tail = tail
            self.endDelay = endDelay
        }

        func channelActive(context: ChannelHandlerContext) {
            counts.state.withLock { $0.accepted += 1 }
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            counts.state.withLock { $0.closed += 1 }
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            counts.state.withLock { $0.requests += 1 }
            let headers = HTTPHeaders([("content-type", "text/event-stream"), ("transfer-encoding", "chunked")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: events)))), promise: nil)
            if !tail.isEmpty { context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: tail)))), promise: nil) }
            let bound = NIOLoopBound((context, self), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: endDelay) {
                let (context, handler) = bound.value
                context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
