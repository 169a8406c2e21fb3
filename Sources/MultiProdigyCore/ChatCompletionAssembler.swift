import MultiProdigyJSON
import NIOCore

/// Builds the non-streaming `chat.completion` an OpenAI client expects from the
/// `chat.completion.chunk`s of a stream, the way OpenAI's own SDKs accumulate one.
///
/// The answer keeps the first chunk's `id`, `created` and `model`, and the last `system_fingerprint`
/// and `service_tier` the chunks carried. Per choice (by `index`): the role; `content`, `refusal`
/// and `reasoning_content` concatenated (`content` null when no chunk carried any; `refusal` null
/// when chunks carried only nulls, absent when they never carried it, as a whole answer from the
/// same upstream); `annotations` and `logprobs.content` / `logprobs.refusal` joined in order
/// (`logprobs` null or absent likewise); each tool call (by its own `index`)
/// with its `id`, `type` and `function.name` from the chunk that announced it and
/// `function.arguments` concatenated; and the last non-null `finish_reason`. `usage` is the usage
/// chunk's, whole. Stream-only fields (`obfuscation`) are left out.
///
/// Fields it does not know are kept too, so a server's own additions survive: at the top level and
/// on a choice (vLLM's `stop_reason`, say) the last non-null value; in a delta, text concatenated
/// (a server's `reasoning`) and any other value's last non-null one, in the message.
///
/// ```swift
/// var assembler = ChatCompletionAssembler()
/// for chunk in chunks { try assembler.add(chunk) }
/// let body = assembler.completion()
/// ```
public struct ChatCompletionAssembler: Sendable {
    /// One choice as assembled so far.
    private struct Choice: Sendable {
        var role = "assistant"
        var content: String?
        var refusal: String?
        var reasoning: String?
        var annotations: [JSONValue] = []
        var toolCalls: [(index: Int, call: ToolCall)] = []
        var logprobContent: [JSONValue]?
        var logprobRefusal: [JSONValue]?
        /// Whether a delta carried `refusal`, even null: a whole answer from the same upstream has it.
        var hasRefusalField = false
        /// Whether a chunk's choice carried `logprobs`, even null.
        var hasLogprobsField = false
        /// The `logprobs` members chunks carried (`content`, `refusal`), even null.
        var logprobFields: Set<String> = []
        var finishReason: JSONValue = .null
        /// Delta fields it does not know, in the order they first came.
        var otherMessageFields = JSONObject()
        /// Choice fields it does not know.
        var otherFields = JSONObject()
    }

    /// One tool call as assembled so far.
    private struct ToolCall: Sendable {
        var id: JSONValue = .null
        var type: JSONValue = .string("function")
        var name = ""
        var arguments = ""
    }

    private var id: JSONValue?
    private var created: JSONValue?
    private var model: JSONValue?
    private var systemFingerprint: JSONValue?
    private var serviceTier: JSONValue?
    private var usage: JSONValue?
    /// Top-level fields it does not know, in the order they first came.
    private var otherFields = JSONObject()
    private var choices: [(index: Int, choice: Choice)] = []

    /// An assembler that has seen no chunk.
    public init() {}

    /// Adds one `chat.completion.chunk`.
    ///
    /// - Throws: ``JSONSyntaxError`` when the chunk is not valid JSON.
    public mutating func add(_ chunk: ByteBuffer) throws(JSONSyntaxError) {
        guard case .object(let object) = try JSONValue.parse(chunk) else { return }
        if id == nil, let value = object["id"] { id = value }
        if created == nil, let value = object["created"] { created = value }
        if model == nil, let value = object["model"] { model = value }
        if let value = object["system_fingerprint"], !value.isNull { systemFingerprint = value }
        if let value = object["service_tier"], !value.isNull { serviceTier = value }
        if let value = object["usage"], !value.isNull { usage = value }
        for member in object.members where !Self.knownFields.contains(member.key) && !member.value.isNull {
            otherFields[member.key] = member.value
        }
        for delta in object["choices"]?.arrayValue ?? [] {
            guard case .object(let fields) = delta else { continue }
            add(fields, to: fields["index"]?.intValue ?? 0)
        }
    }

    private mutating func add(_ fields: JSONObject, to index: Int) {
        let position: Int
        if let found = choices.firstIndex(where: { $0.index == index }) {
            position = found
        } else {
            choices.append((index, Choice()))
            position = choices.count - 1
        }
        var choice = choices[position].choice
        if let delta = fields["delta"]?.objectValue {
            if let role = delta["role"]?.stringValue { choice.role = role }
            if let text = delta["content"]?.stringValue { choice.content = (choice.content ?? "") + text }
            if let refusal = delta["refusal"] {
                choice.hasRefusalField = true
                if let text = refusal.stringValue { choice.refusal = (choice.refusal ?? "") + text }
            }
            if let text = delta["reasoning_content"]?.stringValue { choice.reasoning = (choice.reasoning ?? "") + text }
            choice.annotations += delta["annotations"]?.arrayValue ?? []
            for call in delta["tool_calls"]?.arrayValue ?? [] { Self.add(call, to: &choice) }
            for member in delta.members where !Self.knownDeltaFields.contains(member.key) && !member.value.isNull {
                if case .string(let text) = member.value, case .string(let sofar)? = choice.otherMessageFields[member.key] {
                    choice.otherMessageFields[member.key] = .string(sofar + text)
                } else {
                    choice.otherMessageFields[member.key] = member.value
                }
            }
        }
        for member in fields.members where !Self.knownChoiceFields.contains(member.key) && !member.value.isNull {
            choice.otherFields[member.key] = member.value
        }
        if fields["logprobs"] != nil { choice.hasLogprobsField = true }
        if let logprobs = fields["logprobs"]?.objectValue {
            choice.logprobFields.formUnion(logprobs.keys.filter { $0 == "content" || $0 == "refusal" })
            if let content = logprobs["content"]?.arrayValue { choice.logprobContent = (choice.logprobContent ?? []) + content }
            if let refusal = logprobs["refusal"]?.arrayValue { choice.logprobRefusal = (choice.logprobRefusal ?? []) + refusal }
        }
        if let reason = fields["finish_reason"], !reason.isNull { choice.finishReason = reason }
        choices[position].choice = choice
    }

    private static func add(_ delta: JSONValue, to choice: inout Choice) {
        let index = delta["index"]?.intValue ?? choice.toolCalls.count
        let position: Int
        if let found = choice.toolCalls.firstIndex(where: { $0.index == index }) {
            position = found
        } else {
            choice.toolCalls.append((index, ToolCall()))
            position = choice.toolCalls.count - 1
        }
        var call = choice.toolCalls[position].call
        if let id = delta["id"], !id.isNull { call.id = id }
        if let type = delta["type"], !type.isNull { call.type = type }
        if let name = delta["function"]?["name"]?.stringValue { call.name += name }
        if let arguments = delta["function"]?["arguments"]?.stringValue { call.arguments += arguments }
        choice.toolCalls[position].call = call
    }

    /// The top-level fields of a chunk with a meaning of their own; the others are kept as they come.
    private static let knownFields: Set<String> = [
        "id", "object", "created", "model", "choices", "usage", "system_fingerprint", "service_tier", "obfuscation",
    ]
    /// The fields of a chunk's choice with a meaning of their own.
    private static let knownChoiceFields: Set<String> = ["index", "delta", "logprobs", "finish_reason", "message"]
    /// The fields of a delta with a meaning of their own.
    private static let knownDeltaFields: Set<String> = [
        "role", "content", "refusal", "reasoning_content", "annotations", "tool_calls",
    ]

    /// Whether any chunk was added.
    public var isEmpty: Bool { id == nil && choices.isEmpty && usage == nil }

    /// The `chat.completion`: `id`, `object`, `created`, `model`, `choices` (by `index`), then
    /// `usage`, `service_tier` and `system_fingerprint` when the chunks carried them.
    public func completion() -> JSONValue {
        var body = JSONObject()
        body["id"] = id ?? .string("")
        body["object"] = .string("chat.completion")
        body["created"] = created ?? .integer(0)
        body["model"] = model ?? .string("")
        body["choices"] = .array(choices.sorted { $0.index < $1.index }.map { Self.render($0.choice, index: $0.index) })
        if let usage { body["usage"] = usage }
        if let serviceTier { body["service_tier"] = serviceTier }
        if let systemFingerprint { body["system_fingerprint"] = systemFingerprint }
        for member in otherFields.members where body[member.key] == nil { body[member.key] = member.value }
        return .object(body)
    }

    private static func render(_ choice: Choice, index: Int) -> JSONValue {
        var message = JSONObject()
        message["role"] = .string(choice.role)
        message["content"] = choice.content.map(JSONValue.string) ?? .null
        if choice.hasRefusalField || choice.refusal != nil { message["refusal"] = choice.refusal.map(JSONValue.string) ?? .null }
        if let reasoning = choice.reasoning { message["reasoning_content"] = .string(reasoning) }
        if !choice.annotations.isEmpty { message["annotations"] = .array(choice.annotations) }
        if !choice.toolCalls.isEmpty {
            message["tool_calls"] = .array(
                choice.toolCalls.sorted { $0.index < $1.index }.map { entry in
                    [
                        "id": entry.call.id,
                        "type": entry.call.type,
                        "function": ["name": .string(entry.call.name), "arguments": .string(entry.call.arguments)],
                    ]
                }
            )
        }
        for member in choice.otherMessageFields.members where message[member.key] == nil { message[member.key] = member.value }
        var logprobs: JSONValue? = choice.hasLogprobsField ? .null : nil
        if choice.logprobContent != nil || choice.logprobRefusal != nil {
            var fields = JSONObject()
            if choice.logprobFields.contains("content") { fields["content"] = choice.logprobContent.map(JSONValue.array) ?? .null }
            if choice.logprobFields.contains("refusal") { fields["refusal"] = choice.logprobRefusal.map(JSONValue.array) ?? .null }
            logprobs = .object(fields)
        }
        var rendered = JSONObject()
        rendered["index"] = .integer(index)
        rendered["message"] = .object(message)
        if let logprobs { rendered["logprobs"] = logprobs }
        rendered["finish_reason"] = choice.finishReason
        for member in choice.otherFields.members where rendered[member.key] == nil { rendered[member.key] = member.value }
        return .object(rendered)
    }
}
