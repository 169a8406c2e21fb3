import MultiProdigyJSON
import NIOCore

/// Builds the non-streaming `chat.completion` an OpenAI client expects from the
/// `chat.completion.chunk`s of a stream, the way OpenAI's own SDKs accumulate one.
///
/// The answer keeps the first chunk's `id`, `created` and `model`, and the last `system_fingerprint`
/// and `service_tier` the chunks carried. Per choice (by `index`): the role; `content`, `refusal`
/// and `reasoning_content` concatenated (`content` null when no chunk carried any, or only empty
/// text beside tool calls; `refusal` null
/// when chunks carried only nulls, absent when they never carried it, as a whole answer from the
/// same upstream); `annotations` and `logprobs.content` / `logprobs.refusal` joined in order
/// (`logprobs` null or absent likewise); each tool call (by its own `index`)
/// with its `id`, `type` and `function.name` from the chunk that announced it and
/// `function.arguments` concatenated; and the last non-null `finish_reason`. `usage` is the usage
/// chunk's, whole. Stream-only fields (`obfuscation`) are left out.
///
/// Fields it does not know are kept too, so a server's own additions survive: at the top level and
/// on a choice (vLLM's `stop_reason`, say) the last non-null value (null when only nulls came); in
/// a delta and in a tool call, merged as they come (``StreamedValue``: text appended, so a
/// server's `reasoning`, a legacy `function_call` or an `audio` transcript comes out whole; objects
/// merged member by member; ids replaced). Every text grows in place: assembling takes time in
/// proportion to the answer's length.
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
        /// Content sent as an array of parts (Mistral's thinking and text chunks), in order.
        var contentParts: [JSONValue] = []
        /// The text of the last part while it is a text part that later text parts join: it grows
        /// here, in place, and replaces the part's `text` when the answer is rendered.
        var openPartText: String?
        var refusal: String?
        var reasoning: String?
        var annotations: [JSONValue] = []
        /// Each tool call, by its `index`, merged as its pieces came, in the order they started.
        var toolCalls: [(index: Int, call: StreamedValue, id: String?)] = []
        /// Where the last tool call of each `index` is in `toolCalls`.
        var lastToolCallPositions: [Int: Int] = [:]
        /// What the choice holds, by ``ChatCompletionAssembler/weight(of:)``: text, arguments, log
        /// probabilities, fields of its own, 64 per tool call.
        var bytes = 0
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
        var otherMessageFields: [(key: String, value: StreamedValue)] = []
        /// Where each of those fields is in `otherMessageFields`.
        var otherMessageFieldPositions: [String: Int] = [:]
        /// Choice fields it does not know.
        var otherFields = JSONObject()

        /// Adds one chunk's choice, growing every text in place.
        mutating func add(_ fields: JSONObject) {
            if let delta = fields["delta"]?.objectValue {
                if let role = delta["role"]?.stringValue {
                    self.role = role
                    bytes += role.utf8.count
                }
                if let text = delta["content"]?.stringValue { bytes += Self.append(text, to: &content) }
                if let parts = delta["content"]?.arrayValue { addContentParts(parts) }
                if let refusal = delta["refusal"] {
                    hasRefusalField = true
                    if let text = refusal.stringValue { bytes += Self.append(text, to: &self.refusal) }
                }
                if let text = delta["reasoning_content"]?.stringValue { bytes += Self.append(text, to: &reasoning) }
                if let more = delta["annotations"]?.arrayValue {
                    annotations.append(contentsOf: more)
                    bytes += ChatCompletionAssembler.weight(of: .array(more))
                }
                for call in delta["tool_calls"]?.arrayValue ?? [] { addToolCall(call) }
                for member in delta.members where !ChatCompletionAssembler.knownDeltaFields.contains(member.key) {
                    bytes += ChatCompletionAssembler.weight(of: member)
                    if let position = otherMessageFieldPositions[member.key] {
                        otherMessageFields[position].value.merge(member.value, key: member.key)
                    } else if otherMessageFields.count < ChatCompletionAssembler.maximumKeptFields {
                        otherMessageFieldPositions[member.key] = otherMessageFields.count
                        otherMessageFields.append((member.key, StreamedValue(member.value)))
                    }
                }
            }
            for member in fields.members where !ChatCompletionAssembler.knownChoiceFields.contains(member.key) {
                bytes += ChatCompletionAssembler.weight(of: member)
                ChatCompletionAssembler.keep(member.value, under: member.key, in: &otherFields)
            }
            if fields["logprobs"] != nil { hasLogprobsField = true }
            if let logprobs = fields["logprobs"]?.objectValue {
                logprobFields.formUnion(logprobs.keys.filter { $0 == "content" || $0 == "refusal" })
                if let more = logprobs["content"]?.arrayValue {
                    if logprobContent == nil { logprobContent = [] }
                    logprobContent?.append(contentsOf: more)
                    bytes += ChatCompletionAssembler.weight(of: .array(more))
                }
                if let more = logprobs["refusal"]?.arrayValue {
                    if logprobRefusal == nil { logprobRefusal = [] }
                    logprobRefusal?.append(contentsOf: more)
                    bytes += ChatCompletionAssembler.weight(of: .array(more))
                }
            }
            if let reason = fields["finish_reason"], !reason.isNull {
                finishReason = reason
                bytes += max(ChatCompletionAssembler.weight(of: reason), 1)
            }
        }

        /// Merges one tool-call piece into the call of its `index`; a piece that names another
        /// `id` than that call's starts a call of its own (some servers stream parallel calls all
        /// at index 0, each with its id).
        private mutating func addToolCall(_ delta: JSONValue) {
            guard case .object(var piece) = delta else { return }
            let index = piece["index"]?.intValue ?? toolCalls.count
            piece["index"] = nil
            let id = piece["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            // Arguments and whatever else the piece carries (a thought signature, say).
            bytes += ChatCompletionAssembler.weight(of: .object(piece))
            if let position = lastToolCallPositions[index],
                id == nil || toolCalls[position].id == nil || toolCalls[position].id == id
            {
                toolCalls[position].call.merge(.object(piece), key: "")
                if let id { toolCalls[position].id = id }
            } else {
                lastToolCallPositions[index] = toolCalls.count
                toolCalls.append((index, StreamedValue(.object(piece)), id))
                bytes += ChatCompletionAssembler.toolCallWeight
            }
        }

        /// Adds content parts, joining a text part to a text part just before it (only its text is
        /// kept then, and weighed; a part kept whole weighs all it holds).
        private mutating func addContentParts(_ parts: [JSONValue]) {
            for part in parts {
                let text = part["type"]?.stringValue == "text" ? part["text"]?.stringValue : nil
                if let text, openPartText != nil {
                    openPartText?.append(text)
                    bytes += text.utf8.count
                } else {
                    closeTextPart()
                    // An open text part holds its text in `openPartText` alone, not twice.
                    var kept = part
                    if text != nil { kept["text"] = .string("") }
                    contentParts.append(kept)
                    openPartText = text
                    bytes += max(ChatCompletionAssembler.weight(of: part), 1)
                }
            }
        }

        /// Writes the joined text back into the last part, which no later part joins.
        private mutating func closeTextPart() {
            guard let text = openPartText, let last = contentParts.indices.last else { return }
            openPartText = nil
            contentParts[last]["text"] = .string(text)
        }

        /// The content parts, the joined text written into the last one.
        var renderedContentParts: [JSONValue] {
            var parts = contentParts
            if let text = openPartText, let last = parts.indices.last { parts[last]["text"] = .string(text) }
            return parts
        }

        /// Appends `text` in place, and returns its bytes.
        private static func append(_ text: String, to value: inout String?) -> Int {
            if value == nil { value = text } else { value?.append(text) }
            return text.utf8.count
        }
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
    /// Where each choice's `index` is in `choices`.
    private var choicePositions: [Int: Int] = [:]

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
        for member in object.members where !Self.knownFields.contains(member.key) {
            answerBytes += Self.weight(of: member)
            Self.keep(member.value, under: member.key, in: &otherFields)
        }
        for delta in object["choices"]?.arrayValue ?? [] {
            guard case .object(let fields) = delta else { continue }
            let index = fields["index"]?.intValue ?? 0
            if let position = choicePositions[index] {
                let before = choices[position].choice.bytes
                choices[position].choice.add(fields)
                answerBytes += choices[position].choice.bytes - before
            } else {
                var choice = Choice()
                choice.add(fields)
                choicePositions[index] = choices.count
                choices.append((index, choice))
                answerBytes += Self.choiceWeight + choice.bytes
            }
        }
    }

    /// Keeps `value` under `key`: the latest non-null one, or null when only nulls came. At most
    /// ``maximumKeptFields`` keys are kept: an upstream that names a new field in every chunk
    /// cannot grow the answer without bound (each one held is the latest, so the rest is bounded
    /// by a chunk's size).
    private static func keep(_ value: JSONValue, under key: String, in object: inout JSONObject) {
        guard let held = object[key] else {
            if object.members.count < maximumKeptFields { object[key] = value }
            return
        }
        if !value.isNull || held.isNull { object[key] = value }
    }

    /// How many fields of its own the answer keeps at its top level, on a choice, and in a message.
    static let maximumKeptFields = 64

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

    /// The bytes of answer held so far, by ``weight(of:)``: every choice's role, text, tool-call
    /// arguments, log probabilities, content parts, annotations, finish reasons and fields of its
    /// own (names and values, nested or not), the top level's fields of its own, ``choiceWeight`` per choice and ``toolCallWeight``
    /// per tool call; what `server.max_response_bytes` bounds. Kept as a running total.
    public private(set) var answerBytes = 0

    /// What holding one more choice costs, whatever it holds: an upstream that opens choice after
    /// choice is bounded too.
    static let choiceWeight = 256
    /// What holding one more tool call costs, beside what its pieces weigh.
    static let toolCallWeight = 64

    /// What holding `value` may add to an answer: the bytes of its texts, of its numbers' digits and
    /// of its members' names, 1 for `true`, `false` and `null`, 2 for each array and object (so that
    /// nested empty ones count by their depth), and at least 1 for each element of an array and each
    /// member of an object (so that pieces without text, an empty string or an image part, count too).
    static func weight(of value: JSONValue) -> Int {
        switch value {
        case .string(let text): text.utf8.count
        case .number(let text): max(text.utf8.count, 1)
        case .array(let elements): elements.reduce(2) { $0 + max(weight(of: $1), 1) }
        case .object(let object): object.members.reduce(2) { $0 + weight(of: $1) }
        case .null, .bool: 1
        }
    }

    /// What holding `member` may add: its name's bytes, and its value's weight, at least 1.
    static func weight(of member: JSONObject.Member) -> Int {
        member.key.utf8.count + max(weight(of: member.value), 1)
    }

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
        if choice.content == nil, !choice.contentParts.isEmpty {
            message["content"] = .array(choice.renderedContentParts)
        } else {
            // A tool call's message has no text: null, as the whole answer has it, though a
            // stream's first chunk (Anthropic's, Gemini's and Ollama's translated, vLLM's) said "".
            let text = choice.content.flatMap { $0.isEmpty && !choice.toolCalls.isEmpty ? nil : $0 }
            message["content"] = text.map(JSONValue.string) ?? .null
        }
        if choice.hasRefusalField || choice.refusal != nil { message["refusal"] = choice.refusal.map(JSONValue.string) ?? .null }
        if let reasoning = choice.reasoning { message["reasoning_content"] = .string(reasoning) }
        if !choice.annotations.isEmpty { message["annotations"] = .array(choice.annotations) }
        if !choice.toolCalls.isEmpty {
            let ordered = choice.toolCalls.enumerated().sorted { ($0.element.index, $0.offset) < ($1.element.index, $1.offset) }
            message["tool_calls"] = .array(ordered.map { renderToolCall($0.element.call.json) })
        }
        for field in choice.otherMessageFields where message[field.key] == nil { message[field.key] = field.value.json }
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

    /// A merged tool call as a whole message has it: `id`, `type` (`function` when no piece said),
    /// `function` with `name` and `arguments` (empty when no piece carried them), then any field of
    /// the upstream's own (Gemini's `extra_content`, say).
    private static func renderToolCall(_ merged: JSONValue) -> JSONValue {
        let pieces = merged.objectValue ?? JSONObject()
        var call = JSONObject()
        call["id"] = pieces["id"] ?? .null
        call["type"] = pieces["type"].flatMap { $0.isNull ? nil : $0 } ?? .string("function")
        var function = pieces["function"]?.objectValue ?? JSONObject()
        if function["name"]?.stringValue == nil { function["name"] = .string("") }
        if function["arguments"]?.stringValue == nil { function["arguments"] = .string("") }
        var ordered = JSONObject()
        ordered["name"] = function["name"]
        ordered["arguments"] = function["arguments"]
        for member in function.members where ordered[member.key] == nil { ordered[member.key] = member.value }
        call["function"] = .object(ordered)
        for member in pieces.members where call[member.key] == nil { call[member.key] = member.value }
        return .object(call)
    }
}
