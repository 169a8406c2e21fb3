import MultiProdigyCore

/// Turns one upstream's stream units (SSE events, NDJSON lines) into OpenAI chunk events.
///
/// A translator is a value type holding the stream's state (the id, tool-call indexes, usage so
/// far). ``TranslatedChatStream`` feeds it each unit in order and calls ``finish()`` when the
/// upstream's body ends. A translator emits ``ChatStreamEvent/done`` only when the upstream said the
/// answer is complete; a stream that ends without it was cut, and the gateway reports it so.
public protocol StreamTranslator: Sendable {
    /// What the upstream sends: an ``SSEEvent`` or one NDJSON line.
    associatedtype Unit: Sendable

    /// Translates one unit into zero or more events.
    ///
    /// - Throws: ``ProviderError`` when the unit reports an error or breaks the protocol.
    mutating func translate(_ unit: Unit) throws -> [ChatStreamEvent]

    /// Called once when the upstream's body ends; returns any final events.
    mutating func finish() throws -> [ChatStreamEvent]
}
