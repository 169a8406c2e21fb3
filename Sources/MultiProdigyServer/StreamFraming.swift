import MultiProdigyAccounting
import MultiProdigyCore
import NIOCore

/// How an answer streamed through the chat path is written to the client: as Chat Completions'
/// own `data:` events (``ChatCompletionFraming``), or rendered as another front-door API's events.
///
/// The handler calls it from one task, in order: ``opening(modelName:into:)`` once, before the
/// first event of the relay (chunks, or an end),
/// ``append(_:into:)`` for each batch, then exactly one of ``completion(_:into:)`` and
/// ``interruption(_:into:)``. Each writes into the frame that goes out next.
protocol StreamFraming: Sendable {
    /// What the client gets before the first chunk (Messages' `message_start`, Responses'
    /// `response.created`); nothing for chat. `modelName` is the declared name of the model whose
    /// stream committed.
    mutating func opening(modelName: String, into frame: inout ByteBuffer)

    /// The answer's next chunks, each a gateway `chat.completion.chunk`.
    mutating func append(_ chunks: [ByteBuffer], into frame: inout ByteBuffer)

    /// The end of a finished answer: its usage and the API's completion event.
    mutating func completion(_ completion: StreamCompletion, into frame: inout ByteBuffer) async

    /// The end of an answer that was cut and could not be continued: the API's error event, never
    /// its completion event.
    mutating func interruption(_ error: GatewayError, into frame: inout ByteBuffer) async
}

/// What the end of a finished stream knows.
struct StreamCompletion: Sendable {
    /// The usage chunk the upstream sent, when it sent one (`model` rewritten, without cost).
    var upstreamUsageChunk: ByteBuffer?
    /// The answer's tokens and cost over every segment.
    var tally: StreamTally
    /// The stream's `id`, as every chunk carried it; nil when no chunk had one.
    var id: String?
    /// The stream's `created`, as its JSON number text; nil when no chunk had one.
    var created: String?
    /// The declared name of the model that answered first.
    var modelName: String
}

/// Chat Completions' own framing: each chunk as a `data:` event; at the end the usage chunk (with
/// the cost) when the client asked for it, then `data: [DONE]`; or the error as a `data:` event
/// and never `[DONE]`.
struct ChatCompletionFraming: StreamFraming {
    /// Whether the client asked for a final usage chunk.
    let includeUsage: Bool

    func opening(modelName: String, into frame: inout ByteBuffer) {}

    func append(_ chunks: [ByteBuffer], into frame: inout ByteBuffer) {
        for chunk in chunks { Self.appendEvent(chunk, to: &frame) }
    }

    func completion(_ completion: StreamCompletion, into frame: inout ByteBuffer) {
        if includeUsage {
            let tally = completion.tally
            if let reported = completion.upstreamUsageChunk {
                let chunk = tally.costUSD.map { CostAnnotation.addingCost($0, toUsageChunk: reported) } ?? reported
                Self.appendEvent(chunk, to: &frame)
            } else if let usage = tally.usage {
                // Every segment's tokens (a continued answer), or the gateway's estimate.
                let chunk = CostAnnotation.usageChunk(
                    id: completion.id,
                    created: completion.created,
                    model: completion.modelName,
                    usage: usage,
                    costUSD: tally.costUSD
                )
                Self.appendEvent(chunk, to: &frame)
            }
        }
        frame.writeStaticString("data: [DONE]\n\n")
    }

    func interruption(_ error: GatewayError, into frame: inout ByteBuffer) {
        frame.writeStaticString("data: ")
        error.writeJSON(into: &frame)
        frame.writeStaticString("\n\n")
    }

    private static func appendEvent(_ chunk: ByteBuffer, to frame: inout ByteBuffer) {
        frame.writeStaticString("data: ")
        frame.writeImmutableBuffer(chunk)
        frame.writeStaticString("\n\n")
    }
}
