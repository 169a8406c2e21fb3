import MultiProdigyJSON

/// A streamed answer in a ``NativeAPI``: the upstream's server-sent events as they come, unchanged.
///
/// The sequence ends when the upstream's body does; whether the answer was complete is for the
/// caller to tell from the events (Anthropic's `message_stop`, OpenAI's `response.completed`).
/// ``stop`` ends it early, as ``ChatCompletionStream/stop`` does a chat stream.
public struct NativeEventStream: Sendable {
    /// The events, in order.
    public var events: any AsyncSequence<SSEEvent, any Error> & Sendable
    /// Ends ``events`` early: a read waiting for the next event throws the error, and the upstream
    /// is released. Nil when the sequence cannot be ended from outside.
    public var stop: (@Sendable (any Error) -> Void)?
    /// Says the gateway has all it needs of a complete answer whose body has not ended yet, so the
    /// upstream's connection may finish its framing and be reused rather than closed. Nil when
    /// there is nothing to release.
    public var release: (@Sendable () -> Void)?

    /// Wraps an event sequence; `stop` ends it early, when it can be, and `release` lets its
    /// connection finish once the answer is complete.
    public init(
        events: some AsyncSequence<SSEEvent, any Error> & Sendable,
        stop: (@Sendable (any Error) -> Void)? = nil,
        release: (@Sendable () -> Void)? = nil
    ) {
        self.events = events
        self.stop = stop
        self.release = release
    }
}
