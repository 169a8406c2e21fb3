import Foundation
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore

/// Smooths over where the answers of TGI's Messages API depart from OpenAI's.
///
/// TGI and the router alike: TGI sends an empty `id`, reports `stop_sequence` (and in older
/// versions `eos_token`) as finish reasons, never reports `tool_calls`, and omits `content` on
/// tool-call messages. Requests are rewritten by ``HuggingFaceRequestTranslator``.
enum HuggingFaceResponseTranslator {
    /// The OpenAI finish reason for TGI's.
    static func finishReason(_ reason: String, hasToolCalls: Bool) -> String {
        switch reason {
        case "eos_token", "stop_sequence", "stop": hasToolCalls ? "tool_calls" : "stop"
        default: reason
        }
    }

    /// A non-streaming answer in OpenAI's shape; the body as is when it is not a JSON object.
    static func completion(from body: ByteBuffer) -> ByteBuffer {
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
