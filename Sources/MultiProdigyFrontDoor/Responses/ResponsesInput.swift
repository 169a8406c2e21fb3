import MultiProdigyCore
import MultiProdigyJSON

/// Validation and normalisation of a Responses request's `input` items.
///
/// Every item comes out as an object with `id`, `type` and `status` first, so the items a client
/// sent, the items `GET /v1/responses/{id}/input_items` lists, and the stored history all have one
/// shape, which ``ResponsesChatTranscript`` renders as chat messages.
public enum ResponsesInput {
    /// The roles a message item may have.
    static let roles = ["user", "assistant", "system", "developer"]
    /// The item types the gateway can translate to chat.
    public static let itemTypes = ["message", "function_call", "function_call_output", "reasoning"]

    /// The items of a stored conversation that chat cannot hold (items of other types, files,
    /// audio, images by `file_id`, images in a tool's output), described for a 400: a request
    /// that continues such a conversation can go to a native target only, or the answer would be
    /// to a different conversation.
    public static func nativeOnlyItems(in history: [JSONValue]) -> [String] {
        var found: [String] = []
        for (index, item) in history.enumerated() {
            let type = item["type"]?.stringValue ?? (item["role"] != nil ? "message" : "")
            guard itemTypes.contains(type) else {
                found.append("The stored conversation's item \(index) (an item of type '\(EchoedName.shortened(type))')")
                continue
            }
            let parts = (type == "message" ? item["content"] : type == "function_call_output" ? item["output"] : nil)?.arrayValue ?? []
            for part in parts {
                let partType = part["type"]?.stringValue ?? ""
                let chatReads =
                    ["input_text", "output_text", "refusal"].contains(partType)
                    || (partType == "input_image" && type == "message" && part["file_id"] == nil)
                if !chatReads {
                    found.append("The stored conversation's item \(index) (content of type '\(EchoedName.shortened(partType))')")
                    break
                }
            }
        }
        return found
    }

    /// A user (or other role) message of one text part.
    static func message(role: String, text: String, generator: inout some RandomNumberGenerator) -> JSONValue {
        [
            "id": .string(ResponsesItemID.random(prefix: ResponsesItemID.message, using: &generator)),
            "type": "message",
            "status": "completed",
            "role": .string(role),
            "content": [textPart(text, role: role)],
        ]
    }

    /// A text part as a message of `role` holds it: `output_text` for the assistant, else `input_text`.
    static func textPart(_ text: String, role: String) -> JSONValue {
        role == "assistant"
            ? ["type": "output_text", "text": .string(text), "annotations": []]
            : ["type": "input_text", "text": .string(text)]
    }

    /// One validated and normalised item. An item or part that chat cannot hold (a custom tool's
    /// call, a file, …) is kept as sent, and its path recorded in `nativeOnly`: only a target that
    /// speaks the Responses API itself can take the request.
    static func item(
        _ field: ResponsesField,
        generator: inout some RandomNumberGenerator,
        nativeOnly: inout [String]
    ) throws(GatewayError) -> JSONValue {
        guard let item = field.value, let object = item.objectValue else { throw field.invalidType(expected: "an object") }
        let typeField = ResponsesField("type", of: item, under: field.path)
        let type: String
        if typeField.given == nil, item["role"] != nil {
            type = "message"
        } else {
            type = try typeField.requiredString()
        }
        let id = try ResponsesField("id", of: item, under: field.path).string()
        let status = try ResponsesField("status", of: item, under: field.path).string() ?? "completed"
        var normalized: JSONValue
        switch type {
        case "message":
            let role = try ResponsesField("role", of: item, under: field.path).requiredString(oneOf: roles)
            normalized = [
                "id": .string(id ?? ResponsesItemID.random(prefix: ResponsesItemID.message, using: &generator)),
                "type": "message",
                "status": .string(status),
                "role": .string(role),
                "content": try content(ResponsesField("content", of: item, under: field.path), role: role, nativeOnly: &nativeOnly),
            ]
        case "function_call":
            normalized = [
                "id": .string(id ?? ResponsesItemID.random(prefix: ResponsesItemID.functionCall, using: &generator)),
                "type": "function_call",
                "status": .string(status),
                "arguments": .string(try ResponsesField("arguments", of: item, under: field.path).requiredString()),
                "call_id": .string(try ResponsesField("call_id", of: item, under: field.path).requiredString()),
                "name": .string(try ResponsesField("name", of: item, under: field.path).requiredString()),
            ]
        case "function_call_output":
            normalized = [
                "id": .string(id ?? ResponsesItemID.random(prefix: ResponsesItemID.functionCallOutput, using: &generator)),
                "type": "function_call_output",
                "status": .string(status),
                "call_id": .string(try ResponsesField("call_id", of: item, under: field.path).requiredString()),
                "output": try output(ResponsesField("output", of: item, under: field.path), nativeOnly: &nativeOnly),
            ]
        case "reasoning":
            // Kept for the record and for native targets; chat has no place for it.
            normalized = [
                "id": .string(id ?? ResponsesItemID.random(prefix: ResponsesItemID.reasoning, using: &generator)), "type": "reasoning",
            ]
        default:
            guard typeField.value?.stringValue != nil else { throw typeField.invalidType(expected: "a string") }
            nativeOnly.append("\(field.path) (an item of type '\(EchoedName.shortened(type))')")
            return item
        }
        // Whatever else the client sent (`phase`, a reasoning item's `summary`, …) is kept as sent.
        for member in object.members where normalized[member.key] == nil {
            normalized[member.key] = member.value
        }
        return normalized
    }

    /// A message's `content`: a string becomes one text part; parts are checked.
    private static func content(_ field: ResponsesField, role: String, nativeOnly: inout [String]) throws(GatewayError) -> JSONValue {
        guard let given = field.given else { throw field.missing() }
        if let text = given.stringValue { return [textPart(text, role: role)] }
        guard let parts = given.arrayValue else { throw field.invalidType(expected: "a string or an array") }
        for index in parts.indices {
            try checkPart(ResponsesField(element: index, of: parts, under: field.path), allowsImages: true, nativeOnly: &nativeOnly)
        }
        return given
    }

    /// A `function_call_output`'s `output`: a string, or text parts.
    private static func output(_ field: ResponsesField, nativeOnly: inout [String]) throws(GatewayError) -> JSONValue {
        guard let given = field.given else { throw field.missing() }
        if given.stringValue != nil { return given }
        guard let parts = given.arrayValue else { throw field.invalidType(expected: "a string or an array") }
        for index in parts.indices {
            // A chat `tool` message holds text only.
            try checkPart(ResponsesField(element: index, of: parts, under: field.path), allowsImages: false, nativeOnly: &nativeOnly)
        }
        return given
    }

    /// Checks one content part: `input_text`, `output_text` and `refusal` need their text;
    /// `input_image` needs an `image_url`. An image by `file_id` (OpenAI's file store), a file,
    /// audio, or an image in a tool's output are for native targets only (`nativeOnly`).
    private static func checkPart(_ field: ResponsesField, allowsImages: Bool, nativeOnly: inout [String]) throws(GatewayError) {
        guard let part = field.value, part.kind == .object else { throw field.invalidType(expected: "an object") }
        let typeField = ResponsesField("type", of: part, under: field.path)
        let type = try typeField.requiredString()
        switch type {
        case "input_text", "output_text":
            _ = try ResponsesField("text", of: part, under: field.path).requiredString()
        case "refusal":
            _ = try ResponsesField("refusal", of: part, under: field.path).requiredString()
        case "input_image" where allowsImages && ResponsesField("file_id", of: part, under: field.path).given == nil:
            _ = try ResponsesField("image_url", of: part, under: field.path).requiredString()
            _ = try ResponsesField("detail", of: part, under: field.path).string()
        case "input_image", "input_file", "input_audio":
            nativeOnly.append("\(field.path) (content of type '\(type)')")
        default:
            throw typeField.invalidValue(type, supported: ["input_text", "input_image", "output_text", "refusal"])
        }
    }
}
