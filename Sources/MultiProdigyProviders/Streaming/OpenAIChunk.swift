import MultiProdigyJSON

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
}
