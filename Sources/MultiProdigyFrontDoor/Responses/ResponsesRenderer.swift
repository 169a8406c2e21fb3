import MultiProdigyCore
import MultiProdigyJSON

/// Renders the gateway's chat answer as an OpenAI Responses `response` object.
///
/// The output holds, in order: a `reasoning` item when the answer reports reasoning (its text as a
/// `reasoning_text` content part: chat upstreams give the reasoning itself, not a summary, so
/// `summary` is empty), a `message` item with the text (`output_text`) and any refusal (`refusal`),
/// and a `function_call` item per tool call. A `length` finish makes the response `incomplete` with
/// reason `max_output_tokens`, `content_filter` with reason `content_filter`; the item being written
/// when the answer stopped is then `incomplete` too. Item ids come from ``ResponsesItemID``.
public enum ResponsesRenderer {
    /// The `response` object for `answer`, to answer and to store.
    ///
    /// - Parameters:
    ///   - answer: The gateway's chat answer (its `model` is the declared name, echoed).
    ///   - request: The request, whose settings the object repeats.
    ///   - id: The response's id (`resp_…`).
    ///   - createdAt: When the response was created, in seconds since 1970.
    public static func response(from answer: ChatAnswer, request: ResponsesRequest, id: String, createdAt: Int) -> JSONValue {
        let incompleteReason = incompleteReason(finishReason: answer.finishReason)
        return response(
            id: id,
            createdAt: createdAt,
            status: incompleteReason == nil ? "completed" : "incomplete",
            incompleteReason: incompleteReason,
            model: answer.model,
            output: outputItems(from: answer, responseID: id),
            usage: usage(answer.usage, costUSD: answer.costUSD),
            request: request
        )
    }

    /// The output items for `answer` in response `responseID`: what the stored conversation gains
    /// besides the request's input items (history for the next turn = history + input items +
    /// output items).
    public static func outputItems(from answer: ChatAnswer, responseID: String) -> [JSONValue] {
        var items: [JSONValue] = []
        if let reasoning = answer.reasoning, !reasoning.isEmpty {
            items.append(
                reasoningItem(
                    id: ResponsesItemID.output(prefix: ResponsesItemID.reasoning, responseID: responseID, index: items.count),
                    text: reasoning
                )
            )
        }
        var content: [JSONValue] = []
        if let text = answer.text, !text.isEmpty { content.append(outputText(text)) }
        if let refusal = answer.refusal, !refusal.isEmpty { content.append(refusalPart(refusal)) }
        if !content.isEmpty {
            let id = ResponsesItemID.output(prefix: ResponsesItemID.message, responseID: responseID, index: items.count)
            items.append(messageItem(id: id, status: "completed", content: content))
        }
        for call in answer.toolCalls {
            let id = ResponsesItemID.output(prefix: ResponsesItemID.functionCall, responseID: responseID, index: items.count)
            items.append(functionCallItem(id: id, status: "completed", callID: call.id, name: call.name, arguments: call.arguments))
        }
        if incompleteReason(finishReason: answer.finishReason) != nil, !items.isEmpty {
            items[items.count - 1]["status"] = "incomplete"
        }
        return items
    }

    /// The Responses `usage` object: input and output tokens with their cached and reasoning parts,
    /// their total, and the gateway's `cost_usd` when it priced the answer; `null` when unknown.
    public static func usage(_ usage: TokenUsage?, costUSD: Double?) -> JSONValue {
        guard let usage else { return .null }
        var object: JSONValue = [
            "input_tokens": .integer(usage.promptTokens),
            "input_tokens_details": [
                "cached_tokens": .integer(usage.cachedPromptTokens),
                "cache_write_tokens": .integer(usage.cacheWriteTokens),
            ],
            "output_tokens": .integer(usage.completionTokens),
            "output_tokens_details": ["reasoning_tokens": .integer(usage.reasoningTokens)],
            "total_tokens": .integer(usage.promptTokens + usage.completionTokens),
        ]
        if let costUSD { object["cost_usd"] = .double(costUSD) }
        return object
    }

    /// The `incomplete_details.reason` for a chat finish reason; nil when the answer is complete.
    static func incompleteReason(finishReason: String?) -> String? {
        switch finishReason {
        case "length": "max_output_tokens"
        case "content_filter": "content_filter"
        default: nil
        }
    }

    /// The `error` of a failed response: OpenAI's codes are a closed list that typed clients
    /// decode strictly, so the gateway's error maps to `rate_limit_exceeded` or `server_error`, and
    /// its message carries the detail.
    static func error(_ error: GatewayError) -> JSONValue {
        ["code": error.status.code == 429 ? "rate_limit_exceeded" : "server_error", "message": .string(error.message)]
    }

    /// A `response` object, members in OpenAI's order.
    static func response(
        id: String,
        createdAt: Int,
        status: String,
        error: JSONValue = .null,
        incompleteReason: String?,
        model: String,
        output: [JSONValue],
        usage: JSONValue,
        request: ResponsesRequest
    ) -> JSONValue {
        let echo = request.echoedSettings
        var object = JSONObject()
        object["id"] = .string(id)
        object["object"] = "response"
        object["created_at"] = .integer(createdAt)
        object["status"] = .string(status)
        object["error"] = error
        object["incomplete_details"] = incompleteReason.map { reason -> JSONValue in ["reason": .string(reason)] } ?? .null
        object["instructions"] = echo["instructions"] ?? .null
        object["max_output_tokens"] = echo["max_output_tokens"] ?? .null
        object["model"] = .string(model)
        object["output"] = .array(output)
        object["parallel_tool_calls"] = echo["parallel_tool_calls"] ?? true
        object["previous_response_id"] = echo["previous_response_id"] ?? .null
        object["reasoning"] = echo["reasoning"] ?? .null
        object["store"] = echo["store"] ?? true
        object["temperature"] = echo["temperature"] ?? .null
        object["text"] = echo["text"] ?? .null
        object["tool_choice"] = echo["tool_choice"] ?? "auto"
        object["tools"] = echo["tools"] ?? []
        object["top_p"] = echo["top_p"] ?? .null
        object["usage"] = usage
        object["user"] = echo["user"] ?? .null
        object["metadata"] = echo["metadata"] ?? [:]
        return .object(object)
    }

    /// A `reasoning` item.
    static func reasoningItem(id: String, text: String, status: String = "completed") -> JSONValue {
        ["id": .string(id), "type": "reasoning", "status": .string(status), "summary": [], "content": [reasoningText(text)]]
    }

    /// A `reasoning_text` content part.
    static func reasoningText(_ text: String) -> JSONValue {
        ["type": "reasoning_text", "text": .string(text)]
    }

    /// An assistant `message` item.
    static func messageItem(id: String, status: String, content: [JSONValue]) -> JSONValue {
        ["id": .string(id), "type": "message", "status": .string(status), "role": "assistant", "content": .array(content)]
    }

    /// An `output_text` content part.
    static func outputText(_ text: String) -> JSONValue {
        ["type": "output_text", "text": .string(text), "annotations": []]
    }

    /// A `refusal` content part.
    static func refusalPart(_ refusal: String) -> JSONValue {
        ["type": "refusal", "refusal": .string(refusal)]
    }

    /// A `function_call` item.
    static func functionCallItem(id: String, status: String, callID: String, name: String, arguments: String) -> JSONValue {
        [
            "id": .string(id),
            "type": "function_call",
            "status": .string(status),
            "arguments": .string(arguments),
            "call_id": .string(callID),
            "name": .string(name),
        ]
    }
}
