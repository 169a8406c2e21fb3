import MultiProdigyJSON
import NIOCore

/// Smooths over where TGI's Messages API takes requests differently from OpenAI's.
///
/// Only for TGI, not the router, whose providers speak OpenAI's dialect: TGI has no
/// `max_completion_tokens`, and its `response_format` is `{"type": "json", "value": schema}` rather
/// than OpenAI's `json_schema` shape, which TGI refuses with a 422. Answers are translated by
/// ``HuggingFaceResponseTranslator``.
enum HuggingFaceRequestTranslator {
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
}
