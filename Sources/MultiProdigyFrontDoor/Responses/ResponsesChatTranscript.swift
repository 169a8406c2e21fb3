import MultiProdigyJSON

/// Responses items (normalised input items, stored history, output items) rendered as OpenAI chat
/// messages.
///
/// - A `message` keeps its role, except `developer`, which becomes `system`: OpenAI treats the two
///   alike, and many OpenAI-compatible servers' chat templates know only `system`. Content that is a
///   single text part becomes a string; otherwise parts become chat parts (`text`, `image_url`).
///   A refusal in an assistant message is rendered as its text.
/// - Consecutive `function_call` items become one assistant message with `tool_calls`, joined to
///   the assistant message just before them when there is one (that is how a chat answer with
///   both text and tool calls looks).
/// - A `function_call_output` becomes a `tool` message with its `tool_call_id`.
/// - `reasoning` items, and anything not understood (stored history is not re-validated), are left
///   out.
enum ResponsesChatTranscript {
    /// The chat messages for `items`, in order.
    static func messages(from items: [JSONValue]) -> [JSONValue] {
        var messages: [JSONValue] = []
        // Whether the last message may take more tool calls: an assistant message not yet followed
        // by anything else.
        var assistantIsOpen = false
        for item in items {
            let type = item["type"]?.stringValue ?? (item["role"] != nil ? "message" : nil)
            switch type {
            case "message":
                guard let role = item["role"]?.stringValue, let content = item["content"] else { continue }
                let chatRole = role == "developer" ? "system" : role
                messages.append(["role": .string(chatRole), "content": chatContent(content)])
                assistantIsOpen = chatRole == "assistant"
            case "function_call":
                guard let callID = item["call_id"]?.stringValue, let name = item["name"]?.stringValue else { continue }
                let call: JSONValue = [
                    "id": .string(callID),
                    "type": "function",
                    "function": ["name": .string(name), "arguments": .string(item["arguments"]?.stringValue ?? "")],
                ]
                if assistantIsOpen, var last = messages.popLast() {
                    last["tool_calls"] = .array((last["tool_calls"]?.arrayValue ?? []) + [call])
                    messages.append(last)
                } else {
                    messages.append(["role": "assistant", "content": .null, "tool_calls": [call]])
                    assistantIsOpen = true
                }
            case "function_call_output":
                guard let callID = item["call_id"]?.stringValue, let output = item["output"] else { continue }
                messages.append(["role": "tool", "tool_call_id": .string(callID), "content": .string(text(of: output))])
                assistantIsOpen = false
            default:
                continue
            }
        }
        return messages
    }

    /// A message's content in chat's shape.
    private static func chatContent(_ content: JSONValue) -> JSONValue {
        if content.stringValue != nil { return content }
        let parts = (content.arrayValue ?? []).compactMap(chatPart)
        if parts.count == 1, let text = parts[0]["text"]?.stringValue, parts[0]["type"]?.stringValue == "text" {
            return .string(text)
        }
        return .array(parts)
    }

    /// One content part in chat's shape; nil for a part chat cannot hold.
    private static func chatPart(_ part: JSONValue) -> JSONValue? {
        switch part["type"]?.stringValue {
        case "input_text", "output_text":
            return part["text"]?.stringValue.map { ["type": "text", "text": .string($0)] }
        case "refusal":
            return part["refusal"]?.stringValue.map { ["type": "text", "text": .string($0)] }
        case "input_image":
            guard let url = part["image_url"]?.stringValue else { return nil }
            var image: JSONValue = ["url": .string(url)]
            // Chat knows `auto`, `low` and `high`; Responses' `original` is closest to `high`.
            switch part["detail"]?.stringValue {
            case "auto", "low", "high": image["detail"] = part["detail"]
            case "original": image["detail"] = "high"
            default: break
            }
            return ["type": "image_url", "image_url": image]
        default:
            return nil
        }
    }

    /// A tool output's text: the string, or its text parts joined.
    private static func text(of output: JSONValue) -> String {
        if let string = output.stringValue { return string }
        return (output.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
    }
}
