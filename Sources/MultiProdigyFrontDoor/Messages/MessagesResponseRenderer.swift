import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// Renders the gateway's chat answer as an Anthropic `Message` (the `POST /v1/messages` answer).
///
/// ```json
/// {"id":"msg_abc","type":"message","role":"assistant","model":"fast",
///  "content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","stop_sequence":null,
///  "usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":3,"cost_usd":0.0001}}
/// ```
///
/// - `content`: a `thinking` block when the model reported reasoning, then a `text` block with the
///   text (and any refusal), then one `tool_use` block per tool call. The `thinking` block's
///   `signature` is empty: the gateway has none to give, the SDKs accept an empty string, and a chat
///   target ignores the block when the client sends it back.
/// - A tool call's `input` is its `arguments` parsed as a JSON object. Arguments that are empty, not
///   JSON or not an object become `{}`: Anthropic's `input` must be an object, and the client's own
///   validation of the input against the tool's schema then tells the model what is missing.
/// - `stop_sequence` is always null: a chat answer does not say which stop sequence ended it.
public enum MessagesResponseRenderer {
    /// The `Message` body for `answer`.
    public static func message(from answer: ChatAnswer) -> ByteBuffer {
        var content: [JSONValue] = []
        if let reasoning = answer.reasoning, !reasoning.isEmpty {
            content.append(["type": "thinking", "thinking": .string(reasoning), "signature": ""])
        }
        let text = [answer.text, answer.refusal].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n")
        if !text.isEmpty { content.append(["type": "text", "text": .string(text)]) }
        for call in answer.toolCalls {
            content.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": toolInput(call.arguments)])
        }
        let stopReason = MessagesStopReason.stopReason(
            finishReason: answer.finishReason,
            calledTools: !answer.toolCalls.isEmpty,
            refused: !(answer.refusal ?? "").isEmpty
        )
        let message: JSONValue = [
            "id": .string(messageID(fromChatID: answer.id)),
            "type": "message",
            "role": "assistant",
            "model": .string(answer.model),
            "content": .array(content),
            "stop_reason": .string(stopReason),
            "stop_sequence": nil,
            "usage": (answer.usage ?? .zero).messagesUsage(costUSD: answer.costUSD),
        ]
        return message.buffer
    }

    /// An Anthropic message id for the chat completion `chatID`: `msg_` followed by the letters and
    /// digits of its tail (after `chatcmpl-` or `msg_`), at most 48 of them; a random id when none
    /// are left. Use it for a stream's id too, so that both answers name their message alike.
    public static func messageID(fromChatID chatID: String) -> String {
        var tail = Substring(chatID)
        for prefix in ["chatcmpl-", "msg_"] where tail.hasPrefix(prefix) { tail = tail.dropFirst(prefix.count) }
        let kept = tail.unicodeScalars.filter { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }.prefix(
            48
        )
        guard !kept.isEmpty else { return randomMessageID() }
        return "msg_" + String(String.UnicodeScalarView(kept))
    }

    /// A fresh `msg_` id of 24 random letters and digits.
    public static func randomMessageID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return "msg_" + String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }

    /// A tool call's `arguments` as Anthropic's `input` object (`{}` unless they are a JSON object).
    static func toolInput(_ arguments: String) -> JSONValue {
        guard let parsed = try? JSONValue.parse(arguments), case .object = parsed else { return .object(JSONObject()) }
        return parsed
    }
}
