import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore

/// Translates an OpenAI chat-completions request into a Gemini `GenerateContentRequest` body.
///
/// - `system` and `developer` messages become `systemInstruction`; `assistant` becomes role
///   `model`; `tool` results become `functionResponse` parts of a `user` turn, named after the
///   assistant tool call they answer; consecutive turns of one role are merged, as Gemini requires.
/// - Images: `data:` URLs become `inlineData`; remote URLs must have been fetched beforehand
///   (``remoteImageURLs(in:)``) and handed over in ``remoteImages``.
/// - Sampling settings go to `generationConfig`; tools to one `functionDeclarations` tool with
///   schemas converted by ``GeminiSchema``; `tool_choice` to `toolConfig.functionCallingConfig`.
///
/// Pure: no I/O. Every rejection is a 400 `invalid_request_error` naming the offending field.
struct GeminiRequestTranslator {
    /// An image already downloaded, ready to inline.
    struct InlineData: Sendable, Equatable {
        /// The MIME type, such as `image/png`.
        var mimeType: String
        /// The bytes, base64-encoded.
        package var base64: String
    }

    /// The value Gemini documents for "no signature available" on a function call it requires one for.
    static let placeholderThoughtSignature = "skip_thought_signature_validator"

    /// The provider's name, for messages.
    package var providerName: String
    /// Remote image URLs already fetched, by URL.
    var remoteImages: [String: InlineData] = [:]
    /// What the gateway remembers about earlier tool calls (signatures, Gemini's own ids).
    var toolCallMemory: GeminiToolCallMemory?

    /// The `http(s)` image URLs in `request`'s messages, in order, without duplicates.
    static func remoteImageURLs(in request: JSONValue) -> [String] {
        var urls: [String] = []
        for message in request["messages"]?.arrayValue ?? [] {
            for part in message["content"]?.arrayValue ?? [] where part["type"]?.stringValue == "image_url" {
                guard let url = imageURL(of: part), isRemote(url), !urls.contains(url) else { continue }
                urls.append(url)
            }
        }
        return urls
    }

    /// The Gemini request body for `request`.
    ///
    /// - Throws: ``GatewayError`` (400) for what Gemini cannot express or the request gets wrong.
    func translate(_ request: JSONValue) throws(GatewayError) -> JSONValue {
        guard let messages = request["messages"]?.arrayValue else {
            throw .invalidRequest("Missing required parameter: 'messages'.", param: "messages", code: "missing_required_parameter")
        }
        var body = JSONObject()
        var conversation = Conversation()
        for (index, message) in messages.enumerated() {
            try translate(message, at: index, into: &conversation)
        }
        guard !conversation.contents.isEmpty else {
            throw .invalidRequest(
                "Gemini needs at least one user or assistant message besides system and developer instructions.",
                param: "messages",
                code: "invalid_value"
            )
        }
        body["contents"] = .array(conversation.contents.map { ["role": .string($0.role), "parts": .array($0.parts)] })
        if !conversation.systemParts.isEmpty {
            body["systemInstruction"] = ["parts": .array(conversation.systemParts)]
        }
        let generationConfig = try generationConfig(for: request)
        if !generationConfig.isEmpty { body["generationConfig"] = .object(generationConfig) }
        let (declarations, toolConfig) = try tools(for: request)
        if !declarations.isEmpty {
            body["tools"] = [["functionDeclarations": .array(declarations)]]
            if let toolConfig { body["toolConfig"] = ["functionCallingConfig": toolConfig] }
        }
        return .object(body)
    }

    // MARK: Messages

    private struct Conversation {
        var systemParts: [JSONValue] = []
        var contents: [(role: String, parts: [JSONValue])] = []
        /// Function names of the assistant tool calls seen so far, by tool-call id.
        var toolNames: [String: String] = [:]

        mutating func append(role: String, parts: [JSONValue]) {
            guard !parts.isEmpty else { return }
            if let last = contents.indices.last, contents[last].role == role {
                contents[last].parts.append(contentsOf: parts)
            } else {
                contents.append((role, parts))
            }
        }
    }

    private func translate(_ message: JSONValue, at index: Int, into conversation: inout Conversation) throws(GatewayError) {
        let role = message["role"]?.stringValue ?? ""
        let path = "messages[\(index)]"
        switch role {
        case "system", "developer":
            let text = try Self.text(of: message["content"], at: "\(path).content")
            if !text.isEmpty { conversation.systemParts.append(["text": .string(text)]) }
        case "user":
            conversation.append(role: "user", parts: try userParts(of: message["content"], at: "\(path).content"))
        case "assistant":
            conversation.append(role: "model", parts: try assistantParts(of: message, at: path, toolNames: &conversation.toolNames))
        case "tool", "function":
            let id = message["tool_call_id"]?.stringValue
            guard let name = id.flatMap({ conversation.toolNames[$0] }) ?? message["name"]?.stringValue else {
                let known = id.map { "'\(EchoedName.shortened($0))'" } ?? "(missing)"
                throw .invalidRequest(
                    "Invalid '\(path).tool_call_id': \(known) does not match any tool call of an earlier assistant message. "
                        + "Gemini needs the function's name for each tool result, so keep the assistant message with its tool_calls in the conversation.",
                    param: "\(path).tool_call_id",
                    code: "invalid_value"
                )
            }
            let content = try Self.text(of: message["content"], at: "\(path).content")
            var response: JSONValue = ["name": .string(name), "response": Self.functionResponse(from: content)]
            if let id, toolCallMemory?.record(forToolCall: id)?.isUpstreamID == true {
                response = ["id": .string(id), "name": .string(name), "response": Self.functionResponse(from: content)]
            }
            conversation.append(role: "user", parts: [["functionResponse": response]])
        default:
            throw .invalidRequest(
                "Invalid '\(path).role': '\(EchoedName.shortened(role))'. Supported roles are system, developer, user, assistant and tool.",
                param: "\(path).role",
                code: "invalid_value"
            )
        }
    }

    /// Gemini's `functionResponse.response` must be an object: a JSON object result is passed as
    /// is, anything else is wrapped as `{"output": …}` (the convention Google's SDK documents).
    static func functionResponse(from content: String) -> JSONValue {
        if let parsed = try? JSONValue.parse(content) {
            if parsed.objectValue != nil { return parsed }
            return ["output": parsed]
        }
        return ["output": .string(content)]
    }

    private func userParts(of content: JSONValue?, at path: String) throws(GatewayError) -> [JSONValue] {
        switch content {
        case .string(let text):
            return text.isEmpty ? [] : [["text": .string(text)]]
        case .array(let parts):
            var result: [JSONValue] = []
            for (index, part) in parts.enumerated() {
                if let translated = try userPart(part, at: "\(path)[\(index)]") { result.append(translated) }
            }
            return result
        case nil, .null:
            return []
        default:
            throw .invalidRequest(
                "Invalid type for '\(path)': expected a string or an array of content parts.",
                param: path,
                code: "invalid_type"
            )
        }
    }

    private func userPart(_ part: JSONValue, at path: String) throws(GatewayError) -> JSONValue? {
        let type = part["type"]?.stringValue ?? ""
        switch type {
        case "text":
            guard let text = part["text"]?.stringValue else {
                throw .invalidRequest(
                    "Missing required parameter: '\(path).text'.",
                    param: "\(path).text",
                    code: "missing_required_parameter"
                )
            }
            return text.isEmpty ? nil : ["text": .string(text)]
        case "image_url":
            guard let url = Self.imageURL(of: part) else {
                throw .invalidRequest(
                    "Missing required parameter: '\(path).image_url.url'.",
                    param: "\(path).image_url.url",
                    code: "missing_required_parameter"
                )
            }
            if Self.isRemote(url) {
                guard let image = remoteImages[url] else { throw remoteImagesNotAllowed(at: path) }
                return Self.inlineData(mimeType: image.mimeType, base64: image.base64)
            }
            guard let data = Self.parseDataURL(url) else {
                throw .invalidRequest(
                    "Invalid '\(path).image_url.url': expected an http(s) URL or a base64 data URL such as data:image/png;base64,….",
                    param: "\(path).image_url.url",
                    code: "invalid_value"
                )
            }
            return Self.inlineData(mimeType: data.mimeType, base64: data.base64)
        case "input_audio":
            guard let data = part["input_audio"]?["data"]?.stringValue, let format = part["input_audio"]?["format"]?.stringValue else {
                throw .invalidRequest(
                    "'\(path).input_audio' needs 'data' (base64) and 'format'.",
                    param: "\(path).input_audio",
                    code: "missing_required_parameter"
                )
            }
            return Self.inlineData(mimeType: "audio/\(format)", base64: data)
        case "file":
            if let fileData = part["file"]?["file_data"]?.stringValue {
                if let data = Self.parseDataURL(fileData) { return Self.inlineData(mimeType: data.mimeType, base64: data.base64) }
                if part["file"]?["filename"]?.stringValue?.lowercased().hasSuffix(".pdf") == true {
                    return Self.inlineData(mimeType: "application/pdf", base64: fileData)
                }
            }
            throw .invalidRequest(
                "Gemini takes files inline only: send '\(path).file.file_data' as a data URL (data:application/pdf;base64,…); file ids are not supported.",
                param: "\(path).file",
                code: "invalid_value"
            )
        default:
            throw .invalidRequest(
                "Invalid '\(path).type': '\(EchoedName.shortened(type))'. Gemini accepts text, image_url, input_audio and file parts.",
                param: "\(path).type",
                code: "invalid_value"
            )
        }
    }

    private func remoteImagesNotAllowed(at path: String) -> GatewayError {
        .invalidRequest(
            "'\(path).image_url.url' is a remote URL, which provider '\(providerName)' (Gemini) does not fetch. "
                + "Send the image inline as a data URL (data:image/png;base64,…), or let the gateway download remote images "
                + "by setting options: {allow_remote_images: \"true\"} on provider '\(providerName)'.",
            param: "messages",
            code: "unsupported_parameter"
        )
    }

    private func assistantParts(
        of message: JSONValue,
        at path: String,
        toolNames: inout [String: String]
    ) throws(GatewayError) -> [JSONValue] {
        var parts: [JSONValue] = []
        switch message["content"] {
        case .string(let text) where !text.isEmpty:
            parts.append(["text": .string(text)])
        case .array(let contentParts):
            let text = contentParts.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined()
            if !text.isEmpty { parts.append(["text": .string(text)]) }
        default:
            break
        }
        var isFirstCall = true
        for (index, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
            let callPath = "\(path).tool_calls[\(index)]"
            guard let name = call["function"]?["name"]?.stringValue, !name.isEmpty else {
                throw .invalidRequest(
                    "Missing required parameter: '\(callPath).function.name'.",
                    param: "\(callPath).function.name",
                    code: "missing_required_parameter"
                )
            }
            let arguments = try Self.arguments(of: call, at: "\(callPath).function.arguments")
            let id = call["id"]?.stringValue
            if let id { toolNames[id] = name }
            let record = id.flatMap { toolCallMemory?.record(forToolCall: $0) }
            var functionCall: JSONValue = .object(JSONObject())
            if let id, record?.isUpstreamID == true { functionCall["id"] = .string(id) }
            functionCall["name"] = .string(name)
            functionCall["args"] = arguments
            var part: JSONValue = ["functionCall": functionCall]
            let echoed = call["extra_content"]?["google"]?["thought_signature"]?.stringValue
            if let signature = echoed ?? record?.thoughtSignature {
                part["thoughtSignature"] = .string(signature)
            } else if isFirstCall {
                part["thoughtSignature"] = .string(Self.placeholderThoughtSignature)
            }
            isFirstCall = false
            parts.append(part)
        }
        return parts
    }

    /// A tool call's `arguments` JSON string as the object Gemini's `args` must be.
    private static func arguments(of call: JSONValue, at path: String) throws(GatewayError) -> JSONValue {
        let text = call["function"]?["arguments"]?.stringValue ?? ""
        if text.trimmingWhitespace().isEmpty { return .object(JSONObject()) }
        guard let parsed = try? JSONValue.parse(text), parsed.objectValue != nil else {
            throw .invalidRequest(
                "Invalid '\(path)': Gemini needs the arguments as a JSON object encoded in a string, such as \"{\\\"city\\\":\\\"Paris\\\"}\".",
                param: path,
                code: "invalid_value"
            )
        }
        return parsed
    }

    /// The text of a string content or of the `text` parts of an array content.
    private static func text(of content: JSONValue?, at path: String) throws(GatewayError) -> String {
        switch content {
        case .string(let text): return text
        case nil, .null: return ""
        case .array(let parts):
            var texts: [String] = []
            for (index, part) in parts.enumerated() {
                guard part["type"]?.stringValue == "text", let text = part["text"]?.stringValue else {
                    throw .invalidRequest(
                        "Invalid '\(path)[\(index)]': only text parts are allowed here.",
                        param: "\(path)[\(index)]",
                        code: "invalid_value"
                    )
                }
                texts.append(text)
            }
            return texts.joined(separator: "\n")
        default:
            throw .invalidRequest(
                "Invalid type for '\(path)': expected a string or an array of text parts.",
                param: path,
                code: "invalid_type"
            )
        }
    }

    private static func imageURL(of part: JSONValue) -> String? {
        part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue
    }

    private static func isRemote(_ url: String) -> Bool {
        let lowered = url.prefix(8).lowercased()
        return lowered.hasPrefix("http://") || lowered.hasPrefix("https://")
    }

    private static func inlineData(mimeType: String, base64: String) -> JSONValue {
        ["inlineData": ["mimeType": .string(mimeType), "data": .string(base64)]]
    }

    /// The MIME type and base64 payload of `data:<mime>;base64,<payload>`.
    static func parseDataURL(_ url: String) -> InlineData? {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else { return nil }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        let fields = header.split(separator: ";")
        guard fields.last == "base64", fields.count >= 2 else { return nil }
        let mimeType = String(fields[0]).trimmingWhitespace().lowercased()
        guard mimeType.contains("/") else { return nil }
        return InlineData(mimeType: mimeType, base64: String(url[url.index(after: comma)...]))
    }

    // MARK: Generation settings

    private func generationConfig(for request: JSONValue) throws(GatewayError) -> JSONObject {
        var config = JSONObject()
        if let value = Self.number(request["temperature"]) { config["temperature"] = value }
        if let value = Self.number(request["top_p"]) { config["topP"] = value }
        if let value = Self.number(request["max_completion_tokens"]) ?? Self.number(request["max_tokens"]) {
            config["maxOutputTokens"] = value
        }
        switch request["stop"] {
        case .string(let stop):
            config["stopSequences"] = [.string(stop)]
        case .array(let stops) where !stops.isEmpty:
            guard stops.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidRequest("Invalid 'stop': expected a string or an array of strings.", param: "stop", code: "invalid_type")
            }
            config["stopSequences"] = .array(stops)
        default:
            break
        }
        if let value = Self.number(request["n"]) { config["candidateCount"] = value }
        if let value = Self.number(request["seed"]) { config["seed"] = value }
        if let value = Self.number(request["presence_penalty"]) { config["presencePenalty"] = value }
        if let value = Self.number(request["frequency_penalty"]) { config["frequencyPenalty"] = value }
        if let format = request["response_format"], !format.isNull {
            switch format["type"]?.stringValue {
            case "text":
                break
            case "json_object":
                config["responseMimeType"] = "application/json"
            case "json_schema":
                config["responseMimeType"] = "application/json"
                if let schema = format["json_schema"]?["schema"], schema.objectValue != nil {
                    config["responseSchema"] = GeminiSchema.convert(schema)
                }
            default:
                throw .invalidRequest(
                    "Invalid 'response_format.type': expected 'text', 'json_object' or 'json_schema'.",
                    param: "response_format.type",
                    code: "invalid_value"
                )
            }
        }
        return config
    }

    private static func number(_ value: JSONValue?) -> JSONValue? {
        if case .number = value { return value }
        return nil
    }

    // MARK: Tools

    private func tools(for request: JSONValue) throws(GatewayError) -> (declarations: [JSONValue], config: JSONValue?) {
        var declarations: [(name: String, declaration: JSONValue)] = []
        for (index, tool) in (request["tools"]?.arrayValue ?? []).enumerated() {
            let path = "tools[\(index)]"
            guard tool["type"]?.stringValue ?? "function" == "function", let function = tool["function"] else {
                throw .invalidRequest(
                    "Invalid '\(path).type': Gemini supports only function tools ({\"type\": \"function\", \"function\": {…}}).",
                    param: "\(path).type",
                    code: "invalid_value"
                )
            }
            guard let name = function["name"]?.stringValue, !name.isEmpty else {
                throw .invalidRequest(
                    "Missing required parameter: '\(path).function.name'.",
                    param: "\(path).function.name",
                    code: "missing_required_parameter"
                )
            }
            var declaration: JSONValue = ["name": .string(name)]
            if let description = function["description"]?.stringValue { declaration["description"] = .string(description) }
            if let parameters = function["parameters"], parameters.objectValue != nil {
                let converted = GeminiSchema.convert(parameters)
                // Gemini rejects an OBJECT with no properties; a function without arguments simply has no `parameters`.
                let isEmptyObject = converted["type"]?.stringValue == "OBJECT" && (converted["properties"]?.objectValue?.isEmpty ?? true)
                if !isEmptyObject { declaration["parameters"] = converted }
            }
            declarations.append((name, declaration))
        }
        guard !declarations.isEmpty else { return ([], nil) }
        var mode: String?
        var allowed: [String] = []
        switch request["tool_choice"] {
        case .string("auto"): mode = "AUTO"
        case .string("none"): mode = "NONE"
        case .string("required"): mode = "ANY"
        case .string(let other):
            throw .invalidRequest(
                "Invalid 'tool_choice': '\(EchoedName.shortened(other))'. Expected 'auto', 'none', 'required' or {\"type\": \"function\", \"function\": {\"name\": …}}.",
                param: "tool_choice",
                code: "invalid_value"
            )
        case .object:
            let choice = request["tool_choice"]!
            if let name = choice["function"]?["name"]?.stringValue {
                mode = "ANY"
                allowed = [name]
            } else if let allowedTools = choice["allowed_tools"] {
                allowed = (allowedTools["tools"]?.arrayValue ?? []).compactMap { $0["function"]?["name"]?.stringValue }
                if allowedTools["mode"]?.stringValue == "required" {
                    mode = "ANY"
                } else {
                    // allowedFunctionNames only applies in ANY mode: offer only the allowed tools instead.
                    mode = "AUTO"
                    declarations.removeAll { !allowed.contains($0.name) }
                    allowed = []
                }
            } else {
                throw .invalidRequest(
                    "Invalid 'tool_choice': expected {\"type\": \"function\", \"function\": {\"name\": …}}.",
                    param: "tool_choice",
                    code: "invalid_value"
                )
            }
        default:
            break
        }
        guard let mode else { return (declarations.map(\.declaration), nil) }
        var config: JSONValue = ["mode": .string(mode)]
        if !allowed.isEmpty { config["allowedFunctionNames"] = .array(allowed.map { .string($0) }) }
        return (declarations.map(\.declaration), config)
    }
}
