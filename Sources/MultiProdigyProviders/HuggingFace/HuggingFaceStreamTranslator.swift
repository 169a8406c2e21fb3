import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore

/// Reads TGI's (or the router's) SSE chunks: OpenAI's shape, with TGI's empty ids and finish
/// reasons made OpenAI's, and `tool_calls` reported when the answer called a tool.
struct HuggingFaceStreamTranslator: StreamTranslator {
    private let id = HuggingFaceMessagesAPI.newID()
    private var choicesWithToolCalls: Set<Int> = []

    mutating func translate(_ event: SSEEvent) throws -> [ChatStreamEvent] {
        if event.isDoneSentinel { return [.done] }
        if event.data.isEmpty { return [] }
        let raw = ByteBuffer(bytes: event.data)
        // A chunk that is not a JSON object goes through as is: the relay counts and skips it.
        guard var chunk = try? JSONValue.parse(raw), chunk.objectValue != nil, chunk["error"] == nil else { return [.chunk(raw)] }
        if chunk["id"]?.stringValue?.isEmpty ?? true { chunk["id"] = .string(id) }
        if case .array(var choices) = chunk["choices"] {
            for position in choices.indices {
                let index = choices[position]["index"]?.intValue ?? 0
                if !(choices[position]["delta"]?["tool_calls"]?.arrayValue?.isEmpty ?? true) { choicesWithToolCalls.insert(index) }
                if let reason = choices[position]["finish_reason"]?.stringValue {
                    let mapped = HuggingFaceMessagesAPI.finishReason(reason, hasToolCalls: choicesWithToolCalls.contains(index))
                    choices[position]["finish_reason"] = .string(mapped)
                }
            }
            chunk["choices"] = .array(choices)
        }
        return [.chunk(chunk.buffer)]
    }

    package mutating func finish() throws -> [ChatStreamEvent] { [] }
}
