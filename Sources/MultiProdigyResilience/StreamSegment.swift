import MultiProdigyCore
import MultiProdigyRouting

/// One target's part of a streamed answer: the first target's stream, or a continuation of it.
public struct StreamSegment: Sendable, Equatable {
    /// The target that sent it.
    public var target: RouteTarget
    /// Its tokens: what its upstream reported in its usage chunk, or, when it reported none (a
    /// stream cut short, a server that ignores `stream_options`), an estimate from the prompt
    /// (with the text a continuation's prompt carries) and the text the segment sent.
    public var usage: TokenUsage

    /// Creates a segment.
    public init(target: RouteTarget, usage: TokenUsage) {
        self.target = target
        self.usage = usage
    }
}
