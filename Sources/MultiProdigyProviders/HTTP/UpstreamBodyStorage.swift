import MultiProdigyCore
import NIOCore
import Synchronization

/// The bytes of a streamed upstream answer between its connection's handler, which adds them as
/// they are read, and the task that consumes them (``UpstreamResponseBody``).
///
/// Everything a read brings is handed over at once, when the read completes: the consumer wakes
/// once per socket read, not once per HTTP chunk or event. It holds at most about
/// ``highWatermark`` bytes: past that the handler stops reading the socket (TCP then slows the
/// upstream) until the consumer has taken them.
final class UpstreamBodyStorage: Sendable {
    /// Unread bytes past which the connection stops reading.
    static let highWatermark = 256 << 10
    /// How long a released body may take to end (``release()``) before its connection is closed.
    static let drainGrace: TimeAmount = .milliseconds(500)
    /// How many bytes a released body may hold or bring after its last event (what was read but
    /// not taken counts) before its connection is closed.
    static let drainLimit = 64 << 10

    private struct State: Sendable {
        var pending = ByteBuffer()
        var ended = false
        var failure: (any Error)?
        var waiter: UnsafeContinuation<ByteBuffer?, any Error>?
        /// The handler withheld a read because ``pending`` was full; the consumer asks for it again.
        var readWithheld = false
        /// The consumer needs nothing more (``release()``): bytes are discarded until the answer ends.
        var isDraining = false
        /// Bytes discarded while draining.
        var drained = 0
    }

    private let state = Mutex(State())
    /// The connection's loop, where the handler lives.
    let eventLoop: any EventLoop
    /// The handler serving this answer, for resuming a withheld read and for closing the
    /// connection when the answer is abandoned. Touched on `eventLoop` only.
    private let handler: NIOLoopBound<UpstreamConnectionHandler>

    init(handler: NIOLoopBound<UpstreamConnectionHandler>, eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.handler = handler
    }

    // MARK: The connection's side (on `eventLoop`)

    /// Adds a body part read from the socket.
    func append(_ part: ByteBuffer) {
        let overflows = state.withLock { state -> Bool in
            guard !state.ended, state.failure == nil else { return false }
            if state.isDraining {
                state.drained += part.readableBytes
                return state.drained > Self.drainLimit
            }
            if state.pending.readableBytes == 0 {
                state.pending = part
            } else {
                var part = part
                state.pending.writeBuffer(&part)
            }
            return false
        }
        if overflows { abandon(because: CancellationError()) }
    }

    /// Hands what was read to a waiting consumer: called when a read completes.
    func deliver() {
        let handoff = state.withLock { state -> (UnsafeContinuation<ByteBuffer?, any Error>, Result<ByteBuffer?, any Error>, Bool)? in
            guard let waiter = state.waiter, let (result, resumesRead) = Self.take(&state) else { return nil }
            state.waiter = nil
            return (waiter, result, resumesRead)
        }
        guard let (waiter, result, resumesRead) = handoff else { return }
        waiter.resume(with: result)
        if resumesRead { resumeReading() }
    }

    /// The answer is complete.
    func finish() {
        state.withLock { $0.ended = true }
        deliver()
    }

    /// The answer failed (connection closed early, parse error, deadline): the consumer gets
    /// `error` once it has taken the bytes before it.
    func fail(_ error: any Error) {
        state.withLock { state in
            if !state.ended, state.failure == nil { state.failure = error }
        }
        deliver()
    }

    /// Whether the handler should hold back its next read: true (and noted) when the consumer has
    /// not taken ``highWatermark`` bytes yet.
    func withholdsRead() -> Bool {
        state.withLock { state in
            guard state.pending.readableBytes >= Self.highWatermark, !state.ended, state.failure == nil, !state.isDraining else {
                return false
            }
            state.readWithheld = true
            return true
        }
    }

    // MARK: The consumer's side

    /// The next bytes, nil at the end.
    ///
    /// - Throws: the error that ended the answer early, or `CancellationError`.
    func next() async throws -> ByteBuffer? {
        // A consumer cancelled while bytes keep coming stops here, not at the end of the answer.
        if Task.isCancelled {
            abandon(because: CancellationError())
            throw CancellationError()
        }
        // Bytes already read are taken without suspending.
        if let result = takeNow() { return try result.get() }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (waiter: UnsafeContinuation<ByteBuffer?, any Error>) in
                let taken = state.withLock { state -> (Result<ByteBuffer?, any Error>, Bool)? in
                    if let taken = Self.take(&state) { return taken }
                    if Task.isCancelled { return (.failure(CancellationError()), false) }
                    state.waiter = waiter
                    return nil
                }
                guard let (result, resumesRead) = taken else { return }
                waiter.resume(with: result)
                if resumesRead { resumeReading() }
            }
        } onCancel: {
            abandon(because: CancellationError())
        }
    }

    private func takeNow() -> Result<ByteBuffer?, any Error>? {
        guard let (result, resumesRead) = state.withLock({ Self.take(&$0) }) else { return nil }
        if resumesRead { resumeReading() }
        return result
    }

    /// What the consumer gets now, if anything: the pending bytes, else the failure, else the end;
    /// and whether a read the handler withheld must now be made (the pending bytes were taken).
    private static func take(_ state: inout State) -> (Result<ByteBuffer?, any Error>, resumesRead: Bool)? {
        if state.pending.readableBytes > 0 {
            let bytes = state.pending
            state.pending = ByteBuffer()
            let resumesRead = state.readWithheld
            state.readWithheld = false
            return (.success(bytes), resumesRead)
        }
        if let failure = state.failure { return (.failure(failure), false) }
        if state.ended { return (.success(nil), false) }
        return nil
    }

    private func resumeReading() {
        let handler = self.handler
        let storage = self
        if eventLoop.inEventLoop {
            handler.value.resumeReading(for: storage)
        } else {
            eventLoop.execute { handler.value.resumeReading(for: storage) }
        }
    }

    /// Stops the answer: a waiting consumer gets `error`, and the connection is closed unless the
    /// answer had already ended (its connection then went back to the pool untouched).
    func abandon(because error: any Error) {
        let (waiter, wasOpen) = state.withLock { state -> (UnsafeContinuation<ByteBuffer?, any Error>?, Bool) in
            let wasOpen = !state.ended && state.failure == nil
            if wasOpen { state.failure = error }
            let waiter = state.waiter
            state.waiter = nil
            return (waiter, wasOpen)
        }
        waiter?.resume(throwing: error)
        guard wasOpen else { return }
        let handler = self.handler
        let storage = self
        if eventLoop.inEventLoop {
            handler.value.abandon(storage)
        } else {
            eventLoop.execute { handler.value.abandon(storage) }
        }
    }

    /// The consumer has all it needs of an answer whose body has not ended yet (the upstream sent
    /// its last event, and its framing's end is still on the way): the rest is read and discarded,
    /// and the connection goes back to the pool when the body ends within ``drainGrace`` and
    /// ``drainLimit``; otherwise it is closed. Nothing happens to a body that has ended.
    func release() {
        let outcome = state.withLock { state -> (resumesRead: Bool, overflows: Bool)? in
            guard !state.ended, state.failure == nil, !state.isDraining else { return nil }
            state.isDraining = true
            state.drained = state.pending.readableBytes
            state.pending = ByteBuffer()
            defer { state.readWithheld = false }
            return (state.readWithheld, state.drained > Self.drainLimit)
        }
        guard let (resumesRead, overflows) = outcome else { return }
        if overflows {
            abandon(because: CancellationError())
            return
        }
        if resumesRead { resumeReading() }
        _ = try? eventLoop.scheduleCallback(in: Self.drainGrace, handler: Expiry(storage: self))
    }

    /// Ends the answer with ``UpstreamDeadlineError`` at `deadline` unless it has ended by then
    /// (``abandon(because:)`` leaves an ended answer and its connection alone); nil when the loop
    /// is shutting down.
    @discardableResult
    func expire(at deadline: NIODeadline) -> NIOScheduledCallback? {
        try? eventLoop.scheduleCallback(at: deadline, handler: Expiry(storage: self))
    }

    /// The timer of ``expire(at:)`` and of a released body's grace.
    private struct Expiry: NIOScheduledCallbackHandler, Sendable {
        let storage: UpstreamBodyStorage

        func handleScheduledCallback(eventLoop: some EventLoop) {
            storage.abandon(because: UpstreamDeadlineError())
        }
    }

    /// Whether the answer ended, completely or not.
    var isOver: Bool { state.withLock { $0.ended || $0.failure != nil } }

    /// Whether the consumer released the body (``release()``); it then ends on its own.
    var isReleased: Bool { state.withLock { $0.isDraining } }
}
