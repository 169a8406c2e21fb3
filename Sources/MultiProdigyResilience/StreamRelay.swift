import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyRouting
import NIOCore

/// A streaming attempt that has committed: the chunks to send first, and the rest as the caller
/// asks for them.
///
/// ``start(_:targetName:limits:expectedChoices:removesNullUsage:)`` reads the upstream until the
/// stream commits (its first content chunk) or fails. A failure before commit is thrown, so the
/// caller can try another target; after it, ``next()`` reads on, in the caller's task, one chunk
/// per call (``GuardedStreamReader``): no task or queue of the relay's own, and a client that reads
/// slowly slows the upstream down. A failure after commit is thrown by ``next()``, and the caller
/// reports it in-band.
///
/// ```swift
/// let relay = try await StreamRelay.start(stream, targetName: "fast", limits: limits)
/// write(relay.committedChunks)
/// while let chunk = try await relay.next() { write(chunk) }
/// ```
///
/// - warning: Call ``cancel()`` when the client goes away before the stream ended.
public final class StreamRelay: Sendable {
    /// The chunks held back until commit, `model` already rewritten.
    public let committedChunks: [ByteBuffer]
    /// How many chunks were skipped because they were not valid JSON.
    public var malformedChunkCount: Int { stepper.state.withLock { $0.malformedChunks } }
    /// The upstream's report of the tokens used, and the usage chunk to send the client if it asked
    /// for one; nil until it arrives (last, just before the end). The relay never forwards usage
    /// itself: the gateway adds the cost and decides whether the client gets it.
    public var reportedUsage: ReportedUsage? { stepper.state.withLock { $0.usage } }
    private let stepper: Stepper
    private var reader: GuardedStreamReader<ChatStreamEvent> { stepper.reader }

    /// Usage an upstream reported in its stream.
    public struct ReportedUsage: Sendable {
        /// The counts.
        public var usage: TokenUsage
        /// The chunk that carries them, `model` rewritten and `choices` empty.
        public var chunk: ByteBuffer
    }

    /// What the relay learnt from the chunks so far.
    private struct State: Sendable {
        var malformedChunks = 0
        var usage: ReportedUsage?
    }

    /// What one upstream event means for the relay.
    private enum Step {
        /// A chunk for the client, and the guard's verdict on it.
        case chunk(ByteBuffer, StreamGuardStateMachine.ChunkAction)
        /// A usage-only chunk (kept, never forwarded); `commits` when it is the first content.
        case usageOnly(commits: Bool)
        /// Nothing for the client.
        case skip
    }

    private init(committedChunks: [ByteBuffer], stepper: Stepper) {
        self.committedChunks = committedChunks
        self.stepper = stepper
    }

    /// Stops reading the upstream, which closes its connection; ``next()`` then throws `cancelled`.
    /// A stream whose events already ended is left to finish its framing (its connection is reused).
    public func cancel() {
        reader.cancel()
    }

    /// The next chunk after the committed ones, `model` rewritten; nil once the answer is complete.
    ///
    /// Waits for the upstream when it has sent nothing more yet; the stall limit counts only
    /// meanwhile, and only the total limit while the caller is busy with the client.
    ///
    /// - Throws: ``ProviderError`` when the stream was cut, stalled, timed out, failed in-band or
    ///   was cancelled.
    public func next() async throws -> ByteBuffer? {
        reader.machine.withLock { $0.clientCaughtUp(at: .now) }
        do {
            while let event = try await reader.next() {
                switch try stepper.step(event) {
                case .chunk(let json, .forward), .chunk(let json, .commit), .chunk(let json, .holdBack):
                    return json
                case .chunk(_, .ignore):
                    // The guard finished the attempt (a limit passed) as this chunk came.
                    if let interruption = reader.interruption() { throw interruption }
                case .usageOnly, .skip:
                    continue
                }
            }
            if let interruption = reader.interruption() { throw interruption }
            let ending = reader.machine.withLock { $0.sourceEnded() }
            guard ending == .complete else { throw Self.truncated }
            return nil
        } catch {
            throw reader.fail(error)
        }
    }

    /// Starts relaying `stream` and reads it until it commits.
    ///
    /// - Parameters:
    ///   - stream: The provider's events.
    ///   - targetName: The name every chunk's `model` is rewritten to.
    ///   - limits: First-token, stall and total limits for this attempt.
    ///   - expectedChoices: The client's `n`: how many choices must finish for the answer to be complete.
    ///   - removesNullUsage: Whether to drop the `"usage": null` an upstream asked for usage puts in
    ///     every chunk (when the client did not ask for usage itself).
    /// - Throws: ``ProviderError`` when the attempt fails before anything could be sent.
    public static func start(
        _ stream: ChatCompletionStream,
        targetName: String,
        limits: StreamGuardStateMachine.Limits,
        expectedChoices: Int = 1,
        removesNullUsage: Bool = false
    ) async throws -> StreamRelay {
        let machine = SharedState(StreamGuardStateMachine(limits: limits, start: .now, expectedChoices: expectedChoices))
        let reader = GuardedStreamReader(stream.events, stop: stream.stop, release: stream.release, machine: machine)
        let stepper = Stepper(
            reader: reader,
            state: SharedState(State()),
            modelName: JSONWriter.encodedString(targetName),
            removesNullUsage: removesNullUsage
        )
        var heldBack: [ByteBuffer] = []
        do {
            while let event = try await reader.next() {
                switch try stepper.step(event) {
                case .chunk(let json, .holdBack):
                    heldBack.append(json)
                case .chunk(let json, .commit), .chunk(let json, .forward):
                    heldBack.append(json)
                    return StreamRelay(committedChunks: heldBack, stepper: stepper)
                case .usageOnly(commits: true):
                    return StreamRelay(committedChunks: heldBack, stepper: stepper)
                case .chunk(_, .ignore):
                    if let interruption = reader.interruption() { throw interruption }
                case .usageOnly(commits: false), .skip:
                    continue
                }
            }
            if let interruption = reader.interruption() { throw interruption }
            switch reader.machine.withLock({ $0.sourceEnded() }) {
            case .complete where heldBack.isEmpty:
                throw ProviderError(kind: .protocolViolation, message: "the upstream ended its stream without sending any chunk")
            case .complete:
                return StreamRelay(committedChunks: heldBack, stepper: stepper)
            case .truncated:
                throw truncated
            }
        } catch {
            throw reader.fail(error)
        }
    }

    /// Turns upstream events into the client's chunks: rewrites `model`, records each chunk with the
    /// guard, keeps the usage.
    private struct Stepper: Sendable {
        let reader: GuardedStreamReader<ChatStreamEvent>
        let state: SharedState<State>
        let modelName: ByteBuffer
        let removesNullUsage: Bool

        /// What `event` means for the client.
        func step(_ event: ChatStreamEvent) throws -> Step {
            let chunk: ByteBuffer
            switch event {
            case .done:
                reader.machine.withLock { $0.doneReceived() }
                return .skip
            case .chunk(let body):
                chunk = body
            }
            guard let inspected = ChatChunkInspector.inspect(chunk, modelName: modelName, removesNullUsage: removesNullUsage) else {
                state.withLock { $0.malformedChunks += 1 }
                return .skip
            }
            if let error = inspected.error {
                throw ProviderError(
                    kind: .server,
                    message: "the upstream reported an error mid-stream: \(error.message)",
                    upstreamError: error
                )
            }
            let usageOnly = inspected.usage != nil && inspected.usageChunk != nil && inspected.hasNoChoices
            let action = reader.machine.withLock { machine in
                let action = machine.chunkReceived(
                    at: ContinuousClock.now,
                    carriesContent: inspected.carriesContent,
                    finishing: inspected.finishedChoices
                )
                // The chunk goes to the writer (with those held back, at the commit), and the
                // upstream waits until it asks for the next.
                if action == .commit || (action == .forward && !usageOnly) { machine.waitingForClient() }
                return action
            }
            if let counts = inspected.usage, let usageChunk = inspected.usageChunk {
                state.withLock { $0.usage = ReportedUsage(usage: counts, chunk: usageChunk) }
                // A usage-only chunk has nothing else for the client; the gateway sends its own.
                if usageOnly { return .usageOnly(commits: action == .commit) }
            }
            return .chunk(inspected.json, action)
        }
    }

    /// A stream that ended before its answer was complete.
    private static let truncated = ProviderError(
        kind: .protocolViolation,
        message: "the upstream's stream ended before the answer was complete (no finish_reason and no [DONE])"
    )
}
