import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

@testable import MultiProdigyFrontDoor

/// Helpers shared by the native pass-through tests.
enum NativeStreamFixture {
    /// The events of a literal `text/event-stream` body, as the gateway's parser reads them.
    static func events(_ text: String) -> [SSEEvent] {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        var text = text
        text.withUTF8 { parser.feed(UnsafeRawBufferPointer($0), into: &events) }
        return events
    }

    /// One frame as the client should receive it.
    static func frame(_ name: String?, _ data: String) -> ByteBuffer {
        ByteBuffer(string: (name.map { "event: \($0)\n" } ?? "") + "data: \(data)\n\n")
    }

    /// The frame of `event` written as it came.
    static func unchanged(_ event: SSEEvent) -> NativeStreamStep {
        .forward(frame(event.name, String(decoding: event.data, as: UTF8.self)))
    }

    /// A usage with `cacheWrites` prompt tokens written to the cache.
    static func usage(prompt: Int, completion: Int, cached: Int = 0, reasoning: Int = 0, cacheWrites: Int = 0) -> TokenUsage {
        var usage = TokenUsage(promptTokens: prompt, completionTokens: completion, cachedPromptTokens: cached, reasoningTokens: reasoning)
        usage.cacheWriteTokens = cacheWrites
        return usage
    }
}
