import NIOCore
import NIOPosix
import Synchronization

/// A raw TCP upstream that resets the first `resets` connections once a request has arrived
/// (before any response byte), then answers every request with `answer`, a whole HTTP/1.1 response.
///
/// The reset is the kernel's: a socket closed with unread data in its receive buffer sends RST, so
/// a reset connection is never read from. With `silence`, those connections instead read the
/// request, say nothing for that long, and close (FIN): a target that goes quiet and hangs up.
/// With `headFirst` too, they send that response head as soon as the request arrives, then go
/// quiet (a streaming server that opens its answer and never writes it).
final class ResettingUpstream: Sendable {
    private let remainingResets: Mutex<Int>
    private let requestCount = Mutex(0)
    private let answer: String
    private let silence: Duration?
    private let headFirst: String?
    private let lastSilentClose = Mutex<ContinuousClock.Instant?>(nil)

    init(resets: Int, answer: String, silence: Duration? = nil, headFirst: String? = nil) {
        remainingResets = Mutex(resets)
        self.answer = answer
        self.silence = silence
        self.headFirst = headFirst
    }

    /// Requests answered plus connections reset.
    var requests: Int { requestCount.withLock { $0 } }

    /// When a silent connection was last closed.
    var silentlyClosedAt: ContinuousClock.Instant? { lastSilentClose.withLock { $0 } }

    /// A streaming response's head (chunked SSE), for `headFirst`.
    static let streamHead = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    /// A whole JSON response's head promising a body that never comes, for `headFirst`.
    static let jsonHead = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n"

    /// A 200 `chat.completion` as a whole HTTP/1.1 response.
    static func completionResponse() -> String {
        let body = FakeUpstream.completion()
        return "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// A complete SSE chat stream, `[DONE]` included, as a whole HTTP/1.1 response.
    static func streamResponse() -> String {
        let events = FakeUpstream.stream(["ok"]).map { "data: \($0)\n\n" }.joined() + "data: [DONE]\n\n"
        return "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: \(events.utf8.count)\r\n\r\n\(events)"
    }

    /// Serves until the task is cancelled, reporting the bound port first.
    func run(onPort: @escaping @Sendable (Int) async -> Void) async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler(upstream: self)) }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        await onPort(channel.localAddress?.port ?? 0)
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    fileprivate func countRequest() {
        requestCount.withLock { $0 += 1 }
    }

    /// Whether this connection is reset; counts it as a request when it is.
    fileprivate func takeReset() -> Bool {
        remainingResets.withLock { remaining in
            guard remaining > 0 else { return false }
            remaining -= 1
            requestCount.withLock { $0 += 1 }
            return true
        }
    }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let upstream: ResettingUpstream

        init(upstream: ResettingUpstream) { self.upstream = upstream }

        /// Set on a connection that goes silent: its request is read and never answered.
        private let isSilent = Atomic(false)
        /// Set once a silent connection has sent its `headFirst`.
        private let sentHead = Atomic(false)

        func channelActive(context: ChannelHandlerContext) {
            guard upstream.takeReset() else {
                context.read()
                return
            }
            let channel = context.channel
            if let silence = upstream.silence {
                isSilent.store(true, ordering: .relaxed)
                context.read()
                context.eventLoop.scheduleTask(in: TimeAmount(silence)) { [upstream] in
                    upstream.lastSilentClose.withLock { $0 = .now }
                    channel.close(promise: nil)
                }
                return
            }
            // Give the request time to land in the receive buffer, then close without reading it.
            context.eventLoop.scheduleTask(in: .milliseconds(50)) { channel.close(promise: nil) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let request = unwrapInboundIn(data)
            if isSilent.load(ordering: .relaxed) {
                // The head (if any) once, as soon as the request's head has arrived.
                if let head = upstream.headFirst, !sentHead.load(ordering: .relaxed),
                    request.readableBytesView.contains(UInt8(ascii: "\n"))
                {
                    sentHead.store(true, ordering: .relaxed)
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: head)), promise: nil)
                }
                return
            }
            // Answer once the head's end is seen; the fake does not parse the body.
            if request.readableBytesView.contains(UInt8(ascii: "\n")) {
                upstream.countRequest()
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: upstream.answer)), promise: nil)
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.read()
        }
    }
}
