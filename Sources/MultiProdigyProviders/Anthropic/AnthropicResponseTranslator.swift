import MultiProdigyJSON
import MultiProdigyCore
import NIOCore

/// Translates an Anthropic `Message` into an OpenAI `chat.completion`, and holds the mappings the
/// stream translator shares: stop reasons and usage.
///
/// Text blocks are concatenated into `content`; `tool_use` blocks become `tool_calls` (id kept,
/// `input` serialised as the `arguments` string); thinking and server-tool blocks are dropped.
enum AnthropicResponseTranslator {
    /// The `chat.completion` for Anthropic's answer `body`.
    ///
    /// - Parameters:
    ///   - body: Anthropic's `Message`.
    ///   - model: The model named when Anthropic's answer names none.
    ///   - created: The `created` timestamp (seconds since 1970).
    /// - Throws: ``ProviderError`` of kind `protocolViolation` when `body` is not a `Message`.
    package static func completion(from body: ByteBuffer, model: String, created: Int) throws(ProviderError) -> JSONValue {
        guard let message = try? JSONValue.parse(body), let blocks = message["content"]?.arrayValue else {
            throw ProviderError(kind: .protocolViolation, message: "the upstream's answer is not an Anthropic message")
        }
        var text = ""
        var sawText = false
        var toolCalls: [JSONValue] = []
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text":
                sawText = true
                text += block["text"]?.stringValue ?? ""
            case "tool_use":
                toolCalls.append(
                    toolCall(id: block["id"]?.stringValue ?? "", name: block["name"]?.stringValue ?? "", input: block["input"])
                )
            default:
                // thinking, redacted_thinking, server_tool_use, web_search_tool_result: not part of an OpenAI answer.
                break
            }
        }
        var assistant: JSONValue = ["role": "assistant", "content": sawText || toolCalls.isEmpty ? .string(text) : .null]
        if !toolCalls.isEmpty { assistant["tool_calls"] = .array(toolCalls) }
        let reason = finishReason(for: message["stop_reason"]?.stringValue, hasToolCalls: !toolCalls.isEmpty)
        var out: JSONValue = [
            "id": .string(completionID(messageID: message["id"]?.stringValue)),
            "object": "chat.completion",
            "created": .integer(created),
            "model": .string(message["model"]?.stringValue ?? model),
            "choices": [["index": 0, "message": assistant, "finish_reason": .string(reason)]],
        ]
        out["usage"] = usage(message["usage"] ?? .null)
        return out
    }

    /// An OpenAI tool call for a `tool_use` block.
    static func toolCall(id: String, name: String, input: JSONValue?) -> JSONValue {
        let arguments = input.map { $0.isNull ? "{}" : $0.text } ?? "{}"
        return ["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)]]
    }

    /// OpenAI's `finish_reason` for Anthropic's `stop_reason`.
    ///
    /// `end_turn`, `stop_sequence` and `pause_turn` → `stop`; `max_tokens` and
    /// `model_context_window_exceeded` → `length`; `tool_use` → `tool_calls`; `refusal` →
    /// `content_filter`. A missing or unknown reason is `tool_calls` when the answer has tool calls,
    /// else `stop`.
    static func finishReason(for stopReason: String?, hasToolCalls: Bool) -> String {
        switch stopReason {
        case "end_turn", "stop_sequence", "pause_turn": "stop"
        case "max_tokens", "model_context_window_exceeded": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: hasToolCalls ? "tool_calls" : "stop"
        }
    }

    /// `chatcmpl-` and Anthropic's message id, or a random one when there is none.
    static func completionID(messageID: String?) -> String {
        if let messageID, !messageID.isEmpty { return "chatcmpl-\(messageID)" }
        return "chatcmpl-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// OpenAI's `usage` for Anthropic's usage numbers.
    ///
    /// Anthropic's `input_tokens` leaves out cached tokens; OpenAI's `prompt_tokens` counts them, so it
    /// is `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`, with the cache reads
    /// also reported as `prompt_tokens_details.cached_tokens` and the cache writes as
    /// `prompt_tokens_details.cache_creation_tokens` (the gateway's own field, for pricing them).
    package static func usage(_ counts: JSONValue) -> JSONValue {
        usage(
            input: counts["input_tokens"]?.intValue ?? 0,
            output: counts["output_tokens"]?.intValue ?? 0,
            cacheRead: counts["cache_read_input_tokens"]?.intValue,
            cacheCreation: counts["cache_creation_input_tokens"]?.intValue ?? 0
        )
    }

    /// OpenAI's `usage` for these counts; `cacheRead` nil when Anthropic did not report it.
    package static func usage(input: Int, output: Int, cacheRead: Int?, cacheCreation: Int) -> JSONValue {
        let prompt = input + (cacheRead ?? 0) + cacheCreation
        var out: JSONValue = [
            "prompt_tokens": .integer(prompt),
            "completion_tokens": .integer(output),
            "total_tokens": .integer(prompt + output),
        ]
        var details: JSONValue = [:]
        if let cacheRead { details["cached_tokens"] = .integer(cacheRead) }
        // Not OpenAI's, but the only way to price cache writes, which Anthropic charges above input.
        if cacheCreation > 0 { details["cache_creation_tokens"] = .integer(cacheCreation) }
        if details != [:] { out["prompt_tokens_details"] = details }
        return out
    }
}
