import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore

/// Translates Ollama's `/api/chat` answers (whole or one NDJSON line) into OpenAI's shapes.
///
/// Pure: no I/O. Ollama's tool-call `arguments` are objects and become JSON text; calls without an
/// `id` (older Ollama versions) get one derived from the completion's id; `message.thinking` is
/// not part of OpenAI's answer and is left out.
enum OllamaResponseTranslation {
    /// The OpenAI `chat.completion` for Ollama's non-streaming answer.
    ///
    /// - Parameters:
    ///   - response: Ollama's `ChatResponse` object.
    ///   - id: The completion's id (`chatcmpl-…`).
    ///   - created: Unix seconds.
    ///   - model: The model name to report.
    /// - Throws: ``ProviderError`` of kind `protocolViolation` when the answer has no `message`.
    package static func completion(from response: JSONValue, id: String, created: Int, model: String) throws(ProviderError) -> JSONValue {
        guard let message = response["message"], case .object = message else {
            throw ProviderError(kind: .protocolViolation, message: "Ollama's answer has no 'message' object")
        }
        let toolCalls = openAIToolCalls(from: message["tool_calls"], completionID: id, firstIndex: 0)
        let content = message["content"]?.stringValue ?? ""
        var openAIMessage: JSONValue = [
            "role": "assistant",
            // OpenAI's convention: a message that only calls tools has `content: null`.
            "content": content.isEmpty && !toolCalls.isEmpty ? .null : .string(content),
        ]
        if !toolCalls.isEmpty {
            openAIMessage["tool_calls"] = .array(toolCalls.map { $0.withoutIndex })
        }
        let choice: JSONValue = [
            "index": 0,
            "message": openAIMessage,
            "logprobs": nil,
            "finish_reason": .string(finishReason(doneReason: response["done_reason"]?.stringValue, hasToolCalls: !toolCalls.isEmpty)),
        ]
        return [
            "id": .string(id),
            "object": "chat.completion",
            "created": .integer(created),
            "model": .string(model),
            "choices": [choice],
            "usage": usage(from: response),
        ]
    }

    /// OpenAI's `finish_reason` for Ollama's `done_reason`.
    ///
    /// Ollama ends a tool-calling turn with `stop`; `length` stays `length` even with tool calls, as
    /// the answer was cut. Old versions send no `done_reason`, and `load`/`unload` belong to calls
    /// without messages, so anything else reads as `stop`.
    static func finishReason(doneReason: String?, hasToolCalls: Bool) -> String {
        if doneReason == "length" { return "length" }
        return hasToolCalls ? "tool_calls" : "stop"
    }

    /// OpenAI's `usage` from an answer's (or the final stream line's) counters.
    ///
    /// `prompt_eval_count` is omitted when the prompt came from Ollama's cache; it counts as 0.
    package static func usage(from response: JSONValue) -> JSONValue {
        let prompt = response["prompt_eval_count"]?.intValue ?? 0
        let completion = response["eval_count"]?.intValue ?? 0
        return [
            "prompt_tokens": .integer(prompt), "completion_tokens": .integer(completion), "total_tokens": .integer(prompt + completion),
        ]
    }

    /// OpenAI tool calls, each with its `index`, counting from `firstIndex`.
    ///
    /// - Parameters:
    ///   - value: Ollama's `message.tool_calls`.
    ///   - completionID: The completion's id, from which missing call ids are derived.
    ///   - firstIndex: The index of the first call (calls earlier in a stream count too).
    static func openAIToolCalls(from value: JSONValue?, completionID: String, firstIndex: Int) -> [OpenAIToolCall] {
        guard let calls = value?.arrayValue else { return [] }
        var translated: [OpenAIToolCall] = []
        for call in calls {
            guard let function = call["function"], let name = function["name"]?.stringValue else { continue }
            let index = firstIndex + translated.count
            let arguments: String =
                switch function["arguments"] {
                case .string(let text)?: text
                case .none, .null?: "{}"
                case let value?: value.text
                }
            let id =
                call["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? syntheticToolCallID(completionID: completionID, index: index)
            translated.append(OpenAIToolCall(index: index, id: id, name: name, arguments: arguments))
        }
        return translated
    }

    /// `call_<the completion id's unique part>_<index>`: unique as long as completion ids are.
    static func syntheticToolCallID(completionID: String, index: Int) -> String {
        let unique = completionID.hasPrefix("chatcmpl-") ? String(completionID.dropFirst("chatcmpl-".count)) : completionID
        return "call_\(unique)_\(index)"
    }

    /// The model names of `GET /api/tags`: each entry's `name` (or `model`), in the server's order.
    ///
    /// - Throws: ``ProviderError`` of kind `protocolViolation` when the answer has no `models` array.
    package static func modelNames(from tags: JSONValue) throws(ProviderError) -> [String] {
        guard let models = tags["models"]?.arrayValue else {
            throw ProviderError(kind: .protocolViolation, message: "Ollama's /api/tags answer has no 'models' array")
        }
        return models.compactMap { $0["name"]?.stringValue ?? $0["model"]?.stringValue }
    }

    /// One tool call in OpenAI's shape.
    struct OpenAIToolCall: Equatable {
        package var index: Int
        package var id: String
        package var name: String
        package var arguments: String

        /// As a stream delta: `{"index", "id", "type", "function": {"name", "arguments"}}`.
        var withIndex: JSONValue {
            [
                "index": .integer(index), "id": .string(id), "type": "function",
                "function": ["name": .string(name), "arguments": .string(arguments)],
            ]
        }

        /// As in a whole message: `{"id", "type", "function": {"name", "arguments"}}`.
        var withoutIndex: JSONValue {
            ["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)]]
        }
    }
}
