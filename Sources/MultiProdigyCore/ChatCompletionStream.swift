/// A streaming answer: a sequence of ``ChatStreamEvent``.
///
/// The gateway reads the events in the task that writes them to the client. To end them early (a
/// stream limit passed, the client went away) it calls ``stop``, which must make a read waiting for
/// the next event throw the error it is given; once the events have ended it calls ``release``
/// instead, and never `stop`. A sequence without a `stop` is read a step ahead in a task of its
/// own, which the gateway cancels instead.
///
/// ```swift
/// let body = try await client.openStream(url: url, body: request, accept: "text/event-stream", deadline: deadline, logger: logger)
/// let events = TranslatedChatStream(units: SSEEventSequence(body), translator: translator)
/// return ChatCompletionStream(events: events, stop: body.stop, release: body.release)
/// ```
public struct ChatCompletionStream: Sendable {
    /// The events, in order.
    public var events: any AsyncSequence<ChatStreamEvent, any Error> & Sendable
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
        events: some AsyncSequence<ChatStreamEvent, any Error> & Sendable,
        stop: (@Sendable (any Error) -> Void)? = nil,
        release: (@Sendable () -> Void)? = nil
    ) {
        self.events = events
        self.stop = stop
        self.release = release
    }
}
