import MultiProdigyCore
import NIOCore

/// What to do with one event of a native stream, as ``NativeStreamInspector/inspect(_:)`` decides.
public enum NativeStreamStep: Sendable, Equatable {
    /// Write this server-sent-event frame to the client now (`event: …` when the upstream named the
    /// event, then `data: …`), with `model` renamed where the event carries it.
    case forward(ByteBuffer)
    /// The event carries the answer's final usage: price it, then write
    /// ``NativeStreamInspector/pricedFrame(costUSD:)``, the event with the cost in its usage.
    case usage(TokenUsage)
    /// The upstream reported a failure in the stream (Anthropic's `error`, Responses' `error` or
    /// `response.failed`). Nothing of it has been written: its message may hold what the client must
    /// not see, so the caller scrubs it and writes its own frame
    /// (``NativeStreamInspector/errorFrame(type:message:)``).
    ///
    /// - Parameters:
    ///   - type: Anthropic's `error.type`, or Responses' error `code`; nil when the event has none.
    ///   - message: The upstream's message, unscrubbed.
    case upstreamError(type: String?, message: String)
    /// The event's data is not a JSON object with a string `type`: the stream is broken.
    case malformed(reason: String)
    /// Nothing to write (an OpenAI-style `[DONE]` sentinel, which neither API sends).
    case skip
}
