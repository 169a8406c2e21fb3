/// A streaming answer: a sequence of ``ChatStreamEvent``.
public struct ChatCompletionStream: Sendable {
    /// The events, in order.
    public var events: any AsyncSequence<ChatStreamEvent, any Error> & Sendable

    /// Wraps an event sequence.
    public init(events: some AsyncSequence<ChatStreamEvent, any Error> & Sendable) {
        self.events = events
    }
}
