import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// A validated `POST /v1/responses` body (OpenAI's Responses API), ready to be served by the
/// gateway's chat path.
///
/// Parsing checks the fields the translation reads and answers OpenAI-style 400 errors whose `param`
/// names the offending path (`input[2].content[0].image_url`, `tools[1].name`). The input is kept as
/// normalised item objects (``inputItems``), which is also what `GET /v1/responses/{id}/input_items`
/// lists, and ``chatBody(history:)`` renders them, after the stored conversation, as an OpenAI chat
/// completions body.
///
/// ```swift
/// let request = try ResponsesRequest.parse(body)
/// guard request.builtInTools.isEmpty else { /* only a native OpenAI target can serve it */ }
/// let chat = request.chatBody(history: storedItems)
/// ```
///
/// Fields the chat path cannot honour are not forwarded: `metadata` and `store` are the gateway's
/// own business, `truncation`, `include` and `service_tier` are ignored. `background`,
/// `conversation` and `prompt` are refused, since the gateway keeps no such state.
public struct ResponsesRequest: Sendable {
    /// The `model` the client asked for: a route, a declared model, or `provider/model`.
    public let model: String
    /// Whether the client asked for a server-sent-event stream (`stream`).
    public let isStreaming: Bool
    /// Whether the response is to be stored for `previous_response_id` and `GET` (`store`,
    /// default true).
    public let store: Bool
    /// The response this one continues (`previous_response_id`).
    public let previousResponseID: String?
    /// The types of the tools (and of a `tool_choice`) that only a native OpenAI Responses target
    /// can serve (`web_search`, `file_search`, `mcp`, …), in order, each once; empty when the
    /// request can be served through chat.
    public let builtInTools: [String]
    /// The input items and parts chat cannot hold (a custom tool's call, a file, audio, an image by
    /// `file_id`), by path: kept as sent, for a target that speaks the Responses API itself.
    public let nativeOnlyInputs: [String]
    /// The input as item objects, each with an `id` (`msg_…`, `fc_…`, `fco_…`, `rs_…`) when the client
    /// gave none, a `type`, a `status`, and a message's string content turned into one text part.
    public let inputItems: [JSONValue]
    /// The system instructions (`instructions`), which are not carried to later turns.
    public let instructions: String?
    /// The settings the response object repeats, every one present (defaults filled in):
    /// `instructions`, `max_output_tokens`, `metadata`, `parallel_tool_calls`,
    /// `previous_response_id`, `reasoning`, `store`, `temperature`, `text`, `tool_choice`, `tools`,
    /// `top_p`, `user`.
    public let echoedSettings: JSONObject

    /// The function tools, already in chat's shape.
    let chatTools: [JSONValue]
    /// `tool_choice` in chat's shape; nil when not given or not a chat choice.
    let chatToolChoice: JSONValue?
    /// `parallel_tool_calls`, when given.
    let parallelToolCalls: Bool?
    /// `max_output_tokens`, when given.
    let maxOutputTokens: Int?
    /// `temperature`, its number text kept.
    let temperature: JSONValue?
    /// `top_p`, its number text kept.
    let topP: JSONValue?
    /// `text.format` in chat's `response_format` shape; nil for plain text.
    let responseFormat: JSONValue?
    /// `reasoning.effort`, when given.
    let reasoningEffort: String?
    /// `user`, when given.
    let user: String?

    /// The smallest `max_output_tokens` OpenAI accepts.
    public static let minimumOutputTokens = 16

    /// Parses and validates a request body; items without an `id` get a random one.
    ///
    /// - Throws: ``GatewayError`` with status 400 and type `invalid_request_error`.
    public static func parse(_ body: ByteBuffer) throws(GatewayError) -> ResponsesRequest {
        var generator = SystemRandomNumberGenerator()
        return try parse(body, using: &generator)
    }

    /// Parses and validates a request body, drawing the ids of items that lack one from `generator`.
    ///
    /// - Throws: ``GatewayError`` with status 400 and type `invalid_request_error`.
    public static func parse(
        _ body: ByteBuffer,
        using generator: inout some RandomNumberGenerator
    ) throws(GatewayError) -> ResponsesRequest {
        let json = try RequestBodyJSON.parse(body, requiredFields: "'model' and 'input'")
        guard json.kind == .object else {
            throw .invalidRequest(
                "Invalid type for the request body: expected an object, but got \(json.kind.description) instead.",
                code: "invalid_type"
            )
        }
        return try ResponsesRequest(json: json, generator: &generator)
    }

    private init(json: JSONValue, generator: inout some RandomNumberGenerator) throws(GatewayError) {
        let model = try ResponsesField("model", of: json).requiredString()
        guard !model.isEmpty else { throw ResponsesField("model", of: json).missing() }
        self.model = model
        isStreaming = try ResponsesField("stream", of: json).bool() ?? false
        store = try ResponsesField("store", of: json).bool() ?? true
        previousResponseID = try ResponsesField("previous_response_id", of: json).string()
        instructions = try ResponsesField("instructions", of: json).string()
        for refused in ["conversation", "prompt"] where ResponsesField(refused, of: json).given != nil {
            throw ResponsesField(refused, of: json).unsupported("'\(refused)'")
        }
        if try ResponsesField("background", of: json).bool() == true {
            throw ResponsesField("background", of: json).unsupported("Background mode")
        }

        let input = ResponsesField("input", of: json)
        guard let given = input.given else { throw input.missing() }
        if let text = given.stringValue {
            inputItems = [ResponsesInput.message(role: "user", text: text, generator: &generator)]
            nativeOnlyInputs = []
        } else if let items = given.arrayValue {
            var normalized: [JSONValue] = []
            normalized.reserveCapacity(items.count)
            var nativeOnly: [String] = []
            for index in items.indices {
                let field = ResponsesField(element: index, of: items, under: "input")
                normalized.append(try ResponsesInput.item(field, generator: &generator, nativeOnly: &nativeOnly))
            }
            inputItems = normalized
            nativeOnlyInputs = nativeOnly
        } else {
            throw input.invalidType(expected: "a string or an array")
        }

        var builtInTools: [String] = []
        var chatTools: [JSONValue] = []
        var functionNames: [String] = []
        let tools = try ResponsesField("tools", of: json).array() ?? []
        for index in tools.indices {
            let tool = ResponsesField(element: index, of: tools, under: "tools")
            guard tool.value?.kind == .object else { throw tool.invalidType(expected: "an object") }
            let type = try ResponsesField("type", of: tool.value, under: tool.path).requiredString()
            guard type == "function" else {
                if !builtInTools.contains(type) { builtInTools.append(type) }
                continue
            }
            let name = try ResponsesField("name", of: tool.value, under: tool.path).requiredString()
            var function: JSONValue = ["name": .string(name)]
            if let description = try ResponsesField("description", of: tool.value, under: tool.path).string() {
                function["description"] = .string(description)
            }
            if let parameters = try ResponsesField("parameters", of: tool.value, under: tool.path).object() {
                function["parameters"] = parameters
            }
            if let strict = try ResponsesField("strict", of: tool.value, under: tool.path).bool() {
                function["strict"] = .bool(strict)
            }
            functionNames.append(name)
            chatTools.append(["type": "function", "function": function])
        }
        self.chatTools = chatTools

        let choice = ResponsesField("tool_choice", of: json)
        var chatToolChoice: JSONValue?
        if let given = choice.given {
            if let mode = given.stringValue {
                guard ["none", "auto", "required"].contains(mode) else {
                    throw choice.invalidValue(mode, supported: ["none", "auto", "required"])
                }
                chatToolChoice = given
            } else if given.kind == .object {
                let type = try ResponsesField("type", of: given, under: choice.path).requiredString()
                if type == "function" {
                    let name = try ResponsesField("name", of: given, under: choice.path).requiredString()
                    chatToolChoice = ["type": "function", "function": ["name": .string(name)]]
                } else if !builtInTools.contains(type) {
                    // A hosted tool, `allowed_tools` or `mcp` choice: only OpenAI itself can honour it.
                    builtInTools.append(type)
                }
            } else {
                throw choice.invalidType(expected: "a string or an object")
            }
        }
        self.chatToolChoice = chatToolChoice
        self.builtInTools = builtInTools
        parallelToolCalls = try ResponsesField("parallel_tool_calls", of: json).bool()
        maxOutputTokens = try ResponsesField("max_output_tokens", of: json).integer(minimum: Self.minimumOutputTokens)
        temperature = try ResponsesField("temperature", of: json).number()
        topP = try ResponsesField("top_p", of: json).number()
        user = try ResponsesField("user", of: json).string()

        let text = ResponsesField("text", of: json)
        let textObject = try text.object()
        let format = ResponsesField("format", of: textObject, under: text.path)
        responseFormat = try Self.responseFormat(format)

        let reasoning = ResponsesField("reasoning", of: json)
        let reasoningObject = try reasoning.object()
        reasoningEffort = try ResponsesField("effort", of: reasoningObject, under: reasoning.path).string()
        let summary = try ResponsesField("summary", of: reasoningObject, under: reasoning.path).string()

        let metadata = try Self.metadata(ResponsesField("metadata", of: json))

        var echo = JSONObject()
        echo["instructions"] = instructions.map(JSONValue.string) ?? .null
        echo["max_output_tokens"] = maxOutputTokens.map(JSONValue.integer) ?? .null
        echo["metadata"] = metadata
        echo["parallel_tool_calls"] = .bool(parallelToolCalls ?? true)
        echo["previous_response_id"] = previousResponseID.map(JSONValue.string) ?? .null
        echo["reasoning"] = ["effort": reasoningEffort.map(JSONValue.string) ?? .null, "summary": summary.map(JSONValue.string) ?? .null]
        echo["store"] = .bool(store)
        echo["temperature"] = temperature ?? .null
        var echoedText = textObject ?? [:]
        if format.given == nil { echoedText["format"] = ["type": "text"] }
        echo["text"] = echoedText
        echo["tool_choice"] = choice.given ?? "auto"
        echo["tools"] = .array(tools)
        echo["top_p"] = topP ?? .null
        echo["user"] = user.map(JSONValue.string) ?? .null
        echoedSettings = echo
    }

    /// `text.format` as chat's `response_format`; nil for plain text.
    private static func responseFormat(_ format: ResponsesField) throws(GatewayError) -> JSONValue? {
        guard let object = try format.object() else { return nil }
        let type = try ResponsesField("type", of: object, under: format.path).requiredString(oneOf: ["text", "json_object", "json_schema"])
        switch type {
        case "json_object":
            return ["type": "json_object"]
        case "json_schema":
            var schema: JSONValue = ["name": .string(try ResponsesField("name", of: object, under: format.path).requiredString())]
            let body = ResponsesField("schema", of: object, under: format.path)
            guard let given = try body.object() else { throw body.missing() }
            schema["schema"] = given
            if let strict = try ResponsesField("strict", of: object, under: format.path).bool() { schema["strict"] = .bool(strict) }
            if let description = try ResponsesField("description", of: object, under: format.path).string() {
                schema["description"] = .string(description)
            }
            return ["type": "json_schema", "json_schema": schema]
        default:
            return nil
        }
    }

    /// `metadata`: at most 16 string values, keys up to 64 characters, values up to 512, as OpenAI
    /// allows; `{}` when not given.
    private static func metadata(_ field: ResponsesField) throws(GatewayError) -> JSONValue {
        guard let object = try field.object()?.objectValue else { return [:] }
        guard object.members.count <= 16 else {
            throw .invalidRequest(
                "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got \(object.members.count) instead.",
                param: field.path,
                code: "object_above_max_properties"
            )
        }
        for member in object.members {
            // The key is the client's: an error repeats only its beginning.
            let value = ResponsesField(path: "\(field.path).\(EchoedName.shortened(member.key))", value: member.value)
            let string = try value.requiredString()
            guard member.key.count <= 64, string.count <= 512 else {
                throw .invalidRequest(
                    "Invalid '\(value.path)': metadata keys may have at most 64 characters and values at most 512.",
                    param: value.path,
                    code: "string_above_max_length"
                )
            }
        }
        return .object(object)
    }
}
