import Foundation
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore

/// Smooths over where TGI's Messages API departs from OpenAI's, both ways.
///
/// Requests (to TGI, not the router, whose providers speak OpenAI's dialect): TGI has no
/// `max_completion_tokens`, and its `response_format` is `{"type": "json", "value": schema}` rather
/// than OpenAI's `json_schema` shape, which TGI refuses with a 422.
///
/// Answers (TGI and the router alike): TGI sends an empty `id`, reports `stop_sequence` (and in
/// older versions `eos_token`) as finish reasons, never reports `tool_calls`, and omits `content`
/// on tool-call messages.
enum HuggingFaceMessagesAPI {
    /// The request body TGI understands; nil when nothing needs changing.
    static func tgiRequest(from body: ByteBuffer) -> ByteBuffer? {
        guard var request = try? JSONValue.parse(body), request.objectValue != nil else { return nil }
        var changed = false
        if let limit = request["max_completion_tokens"] {
            if request["max_tokens"] == nil { request["max_tokens"] = limit }
            request["max_completion_tokens"] = nil
            changed = true
        }
        if let format = request["response_format"], let type = format["type"]?.stringValue {
            switch type {
            case "json_schema":
                request["response_format"] = ["type": "json", "value": format["json_schema"]?["schema"] ?? ["type": "object"]]
                changed = true
            case "json_object":
                request["response_format"] = ["type": "json", "value": ["type": "object"]]
                changed = true
            case "text":
                request["response_format"] = nil
                changed = true
            default:
                break
            }
        }
        return changed ? request.buffer : nil
    }

    /// The OpenAI finish reason for TGI's.
    static func finishReason(_ reason: String, hasToolCalls: Bool) -> String {
        switch reason {
        case "eos_token", "stop_sequence", "stop": hasToolCalls ? "tool_calls" : "stop"
        default: reason
        }
    }

    /// A non-streaming answer in OpenAI's shape; the body as is when it is not a JSON object.
    package static func completion(from body: ByteBuffer) -> ByteBuffer {
        guard var answer = try? JSONValue.parse(body), answer.objectValue != nil else { return body }
        if answer["id"]?.stringValue?.isEmpty ?? true { answer["id"] = .string(newID()) }
        if case .array(var choices) = answer["choices"] {
            for index in choices.indices {
                let hasToolCalls = !(choices[index]["message"]?["tool_calls"]?.arrayValue?.isEmpty ?? true)
                if hasToolCalls, choices[index]["message"]?["content"] == nil { choices[index]["message"]?["content"] = .null }
                if let reason = choices[index]["finish_reason"]?.stringValue {
                    choices[index]["finish_reason"] = .string(finishReason(reason, hasToolCalls: hasToolCalls))
                }
            }
            answer["choices"] = .array(choices)
        }
        return answer.buffer
    }

    /// A fresh completion id.
    static func newID() -> String {
        "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}
