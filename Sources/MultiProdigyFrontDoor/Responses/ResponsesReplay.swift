import MultiProdigyJSON

/// A stored conversation made fit to send as `input` to a target that speaks the Responses API
/// itself, which resolves item ids on its side and refuses ids it never issued (`Item with id
/// '…' not found`): the gateway's own ids (and the ids of another upstream) must not reach it.
///
/// - Messages lose `id` and `status`; an assistant's becomes the plain `{role, content}` form
///   (its text joined), which every Responses server accepts as input.
/// - Function calls and their outputs lose `id` and `status`; `call_id` ties them together.
/// - Reasoning items go only when they carry `encrypted_content` (what a server needs to use one
///   it does not store); the gateway's own record of a translated answer's reasoning has none.
/// - Any other item (a built-in tool's call, say) goes as stored.
public enum ResponsesReplay {
    /// `items` as input for a native target.
    public static func forNativeTarget(_ items: [JSONValue]) -> [JSONValue] {
        items.compactMap { item -> JSONValue? in
            guard var object = item.objectValue else { return item }
            switch object["type"]?.stringValue ?? (object["role"] != nil ? "message" : nil) {
            case "message":
                if object["role"]?.stringValue == "assistant" {
                    return ["role": "assistant", "content": .string(text(of: object["content"]))]
                }
                object["id"] = nil
                object["status"] = nil
                return .object(object)
            case "function_call", "function_call_output":
                object["id"] = nil
                object["status"] = nil
                return .object(object)
            case "reasoning":
                // (`JSONValue` is nil-literal expressible: a bare `nil` here would be JSON's null.)
                guard object["encrypted_content"]?.stringValue != nil else { return Optional<JSONValue>.none }
                return item
            default:
                return item
            }
        }
    }

    /// A message's text: the string, or its text and refusal parts joined.
    private static func text(of content: JSONValue?) -> String {
        if let string = content?.stringValue { return string }
        return (content?.arrayValue ?? []).compactMap { $0["text"]?.stringValue ?? $0["refusal"]?.stringValue }.joined()
    }
}
