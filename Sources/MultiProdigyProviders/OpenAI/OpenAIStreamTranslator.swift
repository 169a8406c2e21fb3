import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore

/// Reads an OpenAI-style SSE stream: each `data:` payload is a chunk as is, `[DONE]` the end.
struct OpenAIStreamTranslator: StreamTranslator {
    mutating func translate(_ event: SSEEvent) throws -> [ChatStreamEvent] {
        if event.isDoneSentinel { return [.done] }
        if event.data.isEmpty { return [] }
        return [.chunk(ByteBuffer(bytes: event.data))]
    }

    package mutating func finish() throws -> [ChatStreamEvent] { [] }
}
