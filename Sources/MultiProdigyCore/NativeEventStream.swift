import MultiProdigyJSON

/// A streamed answer in a ``NativeAPI``: the upstream's server-sent events as they come, unchanged.
///
/// The sequence ends when the upstream's body does; whether the answer was complete is for the
/// caller to tell from the events (Anthropic's `message_stop`, OpenAI's `response.completed`).
public struct NativeEventStream: Sendable {
    /// The events, in order.
    public var events: any AsyncSequence<SSEEvent, any Error> & Sendable

    /// Wraps an event sequence.
    public init(events: some AsyncSequence<SSEEvent, any Error> & Sendable) {
        self.events = events
    }
}
