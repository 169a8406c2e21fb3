/// How a model is asked for a non-streaming chat answer (`models.<name>.non_streaming`).
public enum NonStreamingCalls: String, Sendable, Equatable, CaseIterable {
    /// The gateway asks the upstream for a stream and assembles the client's `chat.completion` from
    /// its chunks, so a silent target is detected within `first_byte` and `first_token`, as for a
    /// streaming request, and a steady long answer runs until `total` (the default).
    case assembled
    /// The gateway asks the upstream for a whole answer, for servers that cannot stream: the answer
    /// comes back as the upstream wrote it, but a silent target is told from a long generation only
    /// when its share of `total` runs out.
    case direct
}
