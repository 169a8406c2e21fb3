import MultiProdigyCore
import MultiProdigyFrontDoor
import NIOCore

/// Anthropic's Messages events for an answer streamed through the chat path (``StreamFraming``).
struct MessagesFraming: StreamFraming {
    /// The message's `id`.
    let messageID: String
    /// The prompt's tokens as the gateway estimates them, for `message_start` (the upstream's count
    /// comes with `message_delta`).
    let estimatedInputTokens: Int
    /// Made when the stream commits, once the answering model is known.
    private var renderer: MessagesStreamRenderer?

    init(messageID: String, estimatedInputTokens: Int) {
        self.messageID = messageID
        self.estimatedInputTokens = estimatedInputTokens
    }

    mutating func opening(modelName: String, into frame: inout ByteBuffer) {
        var renderer = MessagesStreamRenderer(messageID: messageID, model: modelName, estimatedInputTokens: estimatedInputTokens)
        renderer.start(into: &frame)
        self.renderer = renderer
    }

    mutating func append(_ chunks: [ByteBuffer], into frame: inout ByteBuffer) {
        for chunk in chunks {
            // The relay passes only chunks it has read as JSON objects.
            guard let delta = ChatDelta.read(chunk) else { continue }
            renderer?.render(delta, into: &frame)
        }
    }

    mutating func completion(_ completion: StreamCompletion, into frame: inout ByteBuffer) {
        renderer?.finish(usage: completion.tally.usage, costUSD: completion.tally.costUSD, into: &frame)
    }

    mutating func interruption(_ error: GatewayError, into frame: inout ByteBuffer) {
        renderer?.fail(error, into: &frame)
    }
}
