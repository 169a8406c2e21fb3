import MultiProdigyJSON
import NIOCore

/// Turns a whole `chat.completion` into the `chat.completion.chunk`s a stream of the same answer
/// would carry, for an upstream that was asked for a stream and answered with one JSON body (a
/// server that ignores `"stream": true`).
///
/// One chunk per choice carries its whole message as the delta (each tool call given its `index`),
/// its `logprobs` and `finish_reason`; a last chunk without choices carries `usage`. `id`,
/// `created`, `model`, `system_fingerprint` and `service_tier` are on every chunk; any other
/// top-level field is on the first. ``ChatCompletionAssembler`` turns them back into the same
/// completion.
public enum ChatCompletionSplitter {
    /// The chunks of `completion`, or nil when it is not a JSON object with a `choices` array.
    public static func chunks(of completion: ByteBuffer) -> [ByteBuffer]? {
        guard case .object(let object)? = try? JSONValue.parse(completion), let choices = object["choices"]?.arrayValue else {
            return nil
        }
        var envelope = JSONObject()
        envelope["id"] = object["id"] ?? .string("")
        envelope["object"] = .string("chat.completion.chunk")
        envelope["created"] = object["created"] ?? .integer(0)
        envelope["model"] = object["model"] ?? .string("")
        for key in ["system_fingerprint", "service_tier"] {
            if let value = object[key] { envelope[key] = value }
        }
        let shared: Set<String> = ["id", "object", "created", "model", "system_fingerprint", "service_tier", "choices", "usage"]
        var chunks: [ByteBuffer] = []
        for (position, choice) in choices.enumerated() {
            guard case .object(let fields) = choice else { continue }
            var chunk = envelope
            if chunks.isEmpty {
                for member in object.members where !shared.contains(member.key) { chunk[member.key] = member.value }
            }
            chunk["choices"] = .array([.object(delta(of: fields, position: position))])
            chunks.append(JSONValue.object(chunk).buffer)
        }
        if let usage = object["usage"], !usage.isNull {
            var chunk = envelope
            chunk["choices"] = .array([])
            chunk["usage"] = usage
            chunks.append(JSONValue.object(chunk).buffer)
        }
        return chunks
    }

    /// A choice of a completion as a chunk's choice: its message as the delta.
    private static func delta(of fields: JSONObject, position: Int) -> JSONObject {
        var message = fields["message"]?.objectValue ?? JSONObject()
        if let calls = message["tool_calls"]?.arrayValue {
            message["tool_calls"] = .array(
                calls.enumerated().map { index, call in
                    guard case .object(var call) = call else { return call }
                    if call["index"] == nil { call["index"] = .integer(index) }
                    return .object(call)
                }
            )
        }
        var choice = JSONObject()
        choice["index"] = fields["index"] ?? .integer(position)
        choice["delta"] = .object(message)
        for member in fields.members where member.key != "index" && member.key != "message" {
            choice[member.key] = member.value
        }
        if choice["finish_reason"] == nil { choice["finish_reason"] = .null }
        return choice
    }
}
