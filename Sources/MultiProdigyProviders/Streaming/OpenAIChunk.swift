import MultiProdigyJSON
import NIOCore

/// Builds OpenAI `chat.completion.chunk` objects for adapters that translate a native stream.
public enum OpenAIChunk {
    /// A chunk: `id`, `object`, `created`, `model`, `choices`, and `usage` when given, in that order.
    public static func make(id: String, created: Int, model: String, choices: [JSONValue], usage: JSONValue? = nil) -> JSONValue {
        var chunk: JSONValue = [
            "id": .string(id),
            "object": "chat.completion.chunk",
            "created": .integer(created),
            "model": .string(model),
            "choices": .array(choices),
        ]
        if let usage { chunk["usage"] = usage }
        return chunk
    }

    /// A chunk of one choice whose delta is `text` and nothing else, written as bytes: the same text
    /// as ``make(id:created:model:choices:usage:)`` with the choice
    /// `{"index": index, "delta": {"content": text}, ("logprobs": null,) "finish_reason": null}`,
    /// without building a tree. A stream's most common chunk.
    ///
    /// - Parameter withNullLogprobs: Whether the choice carries `"logprobs": null` (Ollama's chunks do).
    public static func content(
        _ text: String,
        index: Int = 0,
        id: String,
        created: Int,
        model: String,
        withNullLogprobs: Bool = false
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(112 + id.utf8.count + model.utf8.count + text.utf8.count)
        buffer.writeStaticString(#"{"id":"#)
        JSONWriter.writeString(id, into: &buffer)
        buffer.writeStaticString(#","object":"chat.completion.chunk","created":"#)
        buffer.writeString(String(created))
        buffer.writeStaticString(#","model":"#)
        JSONWriter.writeString(model, into: &buffer)
        buffer.writeStaticString(#","choices":[{"index":"#)
        buffer.writeString(String(index))
        buffer.writeStaticString(#","delta":{"content":"#)
        JSONWriter.writeString(text, into: &buffer)
        buffer.writeStaticString(withNullLogprobs ? #"},"logprobs":null,"finish_reason":null}]}"# : #"},"finish_reason":null}]}"#)
        return buffer
    }
}
