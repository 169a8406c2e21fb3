/// One server-sent event: its `event:` name, if any, and its `data:` lines joined with `\n`.
public struct SSEEvent: Sendable, Equatable {
    /// The `event:` field, when the upstream sent one (Anthropic does; OpenAI does not).
    public var name: String?
    /// The event's data, multi-line data joined with `\n`.
    public var data: [UInt8]

    /// Creates an event.
    public init(name: String? = nil, data: [UInt8]) {
        self.name = name
        self.data = data
    }

    /// True when the data is OpenAI's end-of-stream sentinel `[DONE]`.
    public var isDoneSentinel: Bool {
        data.count >= 6 && data.starts(with: Self.doneBytes)
    }

    private static let doneBytes: [UInt8] = Array("[DONE]".utf8)
}
