import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore

/// Translates an OpenAI chat-completion request into the body of Ollama's native `POST /api/chat`.
///
/// Pure: no I/O. What has no Ollama equivalent is dropped (`logit_bias`, `user`,
/// `parallel_tool_calls`, a `tool_choice` other than `none`); what would silently change the answer
/// is refused with a 400 (`n` > 1, remote image URLs, audio and file parts).
enum OllamaRequestTranslation {
    /// Top-level sampling fields Ollama takes under `options` with the same name. `top_k`, `min_p`
    /// and `repeat_penalty` are not OpenAI's, but clients of local servers send them.
    private static let sameNameOptions = [
        "temperature", "top_p", "seed", "presence_penalty", "frequency_penalty", "top_k", "min_p", "repeat_penalty",
    ]

    /// The `/api/chat` body for `request`.
    ///
    /// - Parameters:
    ///   - request: The client's body (already checked to be an object with `model` and `messages`).
    ///   - model: The model name Ollama knows.
    ///   - stream: Whether to ask for an NDJSON stream; always sent, as Ollama streams by default.
    ///   - settings: The provider's `options:`.
    /// - Throws: ``GatewayError`` (400) for what Ollama cannot be asked.
    static func chatRequest(
        from request: JSONValue,
        model: String,
        stream: Bool,
        settings: OllamaSettings
    ) throws(GatewayError) -> JSONValue {
        if let n = request["n"]?.intValue, n > 1 {
            throw .invalidRequest(
                "Ollama returns one choice per request; 'n' must be 1 (send \(n) requests instead).",
                param: "n",
                code: "unsupported_parameter"
            )
        }
        var body: JSONValue = ["model": .string(model), "messages": .array(try messages(from: request["messages"]))]
        let toolChoice = request["tool_choice"]?.stringValue
        if let tools = request["tools"]?.arrayValue, !tools.isEmpty, toolChoice != "none" {
            // Same shape as OpenAI's; `tool_choice: none` is honoured by not offering the tools at all.
            body["tools"] = .array(tools)
        }
        if let format = try format(from: request["response_format"]) { body["format"] = format }
        let options = try options(from: request, settings: settings)
        if !options.isEmpty { body["options"] = .object(options) }
        if let keepAlive = settings.keepAlive { body["keep_alive"] = keepAlive }
        body["stream"] = .bool(stream)
        return body
    }

    // MARK: Messages

    private static func messages(from value: JSONValue?) throws(GatewayError) -> [JSONValue] {
        var translated: [JSONValue] = []
        // Ollama's tool messages name their tool; OpenAI's carry only the call's id.
        var toolNames: [String: String] = [:]
        for (index, message) in (value?.arrayValue ?? []).enumerated() {
            let path = "messages[\(index)]"
            let role = message["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer":
                translated.append(["role": "system", "content": .string(try text(of: message["content"], path: "\(path).content"))])
            case "user":
                translated.append(try userMessage(message, path: path))
            case "assistant":
                translated.append(try assistantMessage(message, path: path, toolNames: &toolNames))
            case "tool":
                var out: JSONValue = ["role": "tool", "content": .string(try text(of: message["content"], path: "\(path).content"))]
                if let id = message["tool_call_id"]?.stringValue {
                    if let name = toolNames[id] { out["tool_name"] = .string(name) }
                    out["tool_call_id"] = .string(id)
                }
                translated.append(out)
            case "function":
                // The deprecated predecessor of `tool`: it names the function itself.
                var out: JSONValue = ["role": "tool", "content": .string(try text(of: message["content"], path: "\(path).content"))]
                if let name = message["name"]?.stringValue { out["tool_name"] = .string(name) }
                translated.append(out)
            default:
                throw .invalidRequest(
                    "Invalid value for '\(path).role': '\(EchoedName.shortened(role))'. Supported roles are system, developer, user, assistant and tool.",
                    param: "\(path).role",
                    code: "invalid_value"
                )
            }
        }
        return translated
    }

    private static func userMessage(_ message: JSONValue, path: String) throws(GatewayError) -> JSONValue {
        guard let parts = message["content"]?.arrayValue else {
            return ["role": "user", "content": .string(try text(of: message["content"], path: "\(path).content"))]
        }
        var texts: [String] = []
        var images: [JSONValue] = []
        for (index, part) in parts.enumerated() {
            let partPath = "\(path).content[\(index)]"
            switch part["type"]?.stringValue {
            case "text":
                texts.append(part["text"]?.stringValue ?? "")
            case "image_url":
                // `image_url` is `{"url": …}`; a few clients send the URL string itself.
                let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue
                guard let url else {
                    throw .invalidRequest(
                        "Missing required parameter: '\(partPath).image_url.url'.",
                        param: "\(partPath).image_url.url",
                        code: "missing_required_parameter"
                    )
                }
                images.append(.string(try base64Image(from: url, path: "\(partPath).image_url.url")))
            default:
                throw unsupportedPart(part, path: partPath, accepted: "text and image_url")
            }
        }
        var out: JSONValue = ["role": "user", "content": .string(texts.joined(separator: "\n"))]
        if !images.isEmpty { out["images"] = .array(images) }
        return out
    }

    private static func assistantMessage(
        _ message: JSONValue,
        path: String,
        toolNames: inout [String: String]
    ) throws(GatewayError) -> JSONValue {
        var out: JSONValue = ["role": "assistant", "content": .string(try text(of: message["content"], path: "\(path).content"))]
        guard let calls = message["tool_calls"]?.arrayValue, !calls.isEmpty else { return out }
        var translated: [JSONValue] = []
        for (index, call) in calls.enumerated() {
            let callPath = "\(path).tool_calls[\(index)]"
            guard let name = call["function"]?["name"]?.stringValue else {
                throw .invalidRequest(
                    "Missing required parameter: '\(callPath).function.name'.",
                    param: "\(callPath).function.name",
                    code: "missing_required_parameter"
                )
            }
            let arguments = try argumentsObject(call["function"]?["arguments"], path: "\(callPath).function.arguments")
            let function: JSONValue = ["name": .string(name), "arguments": arguments]
            var toolCall: JSONValue = [:]
            if let id = call["id"]?.stringValue, !id.isEmpty {
                toolNames[id] = name
                toolCall["id"] = .string(id)
            }
            toolCall["function"] = function
            translated.append(toolCall)
        }
        out["tool_calls"] = .array(translated)
        return out
    }

    /// OpenAI's `arguments` is JSON text; Ollama wants the object itself.
    private static func argumentsObject(_ value: JSONValue?, path: String) throws(GatewayError) -> JSONValue {
        switch value {
        case .none, .null?: return [:]
        case .object(let object)?: return .object(object)
        case .string(let text)?:
            if text.allSatisfy(\.isWhitespace) { return [:] }
            guard let parsed = try? JSONValue.parse(text), case .object = parsed else {
                throw .invalidRequest(
                    "Invalid '\(path)': it must be a JSON object encoded as a string, such as \"{\\\"city\\\": \\\"Paris\\\"}\".",
                    param: path,
                    code: "invalid_value"
                )
            }
            return parsed
        default:
            throw .invalidRequest("Invalid type for '\(path)': expected a string holding a JSON object.", param: path, code: "invalid_type")
        }
    }

    /// The text of a content field: a string, null, or an array of text parts joined by newlines.
    private static func text(of content: JSONValue?, path: String) throws(GatewayError) -> String {
        switch content {
        case .none, .null?: return ""
        case .string(let text)?: return text
        case .array(let parts)?:
            var texts: [String] = []
            for (index, part) in parts.enumerated() {
                switch part["type"]?.stringValue {
                case "text": texts.append(part["text"]?.stringValue ?? "")
                case "refusal": texts.append(part["refusal"]?.stringValue ?? "")
                default: throw unsupportedPart(part, path: "\(path)[\(index)]", accepted: "text")
                }
            }
            return texts.joined(separator: "\n")
        default:
            throw .invalidRequest(
                "Invalid type for '\(path)': expected a string or an array of content parts.",
                param: path,
                code: "invalid_type"
            )
        }
    }

    private static func unsupportedPart(_ part: JSONValue, path: String, accepted: String) -> GatewayError {
        let type = part["type"]?.stringValue.map { "'\(EchoedName.shortened($0))'" } ?? "without a type"
        return .invalidRequest(
            "Content part \(type) at '\(path)' is not supported by Ollama models; this message accepts \(accepted) parts.",
            param: "\(path).type",
            code: "invalid_value"
        )
    }

    /// The base64 payload of a `data:` URL; Ollama takes images only inline and the gateway fetches nothing.
    private static func base64Image(from url: String, path: String) throws(GatewayError) -> String {
        guard url.hasPrefix("data:") else {
            let shown = url.count > 80 ? String(url.prefix(80)) + "…" : url
            throw .invalidRequest(
                "Ollama accepts images only inline: send the image as a base64 data URL (such as 'data:image/png;base64,iVBORw0KGgo…') "
                    + "instead of the remote URL '\(shown)'. The gateway does not download images.",
                param: path,
                code: "unsupported_parameter"
            )
        }
        guard let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
            throw .invalidRequest(
                "The data URL at '\(path)' must be base64-encoded, such as 'data:image/png;base64,iVBORw0KGgo…'.",
                param: path,
                code: "invalid_image_url"
            )
        }
        let payload = url[url.index(after: comma)...]
        guard !payload.isEmpty else {
            throw .invalidRequest("The data URL at '\(path)' holds no image data.", param: path, code: "invalid_image_url")
        }
        return String(payload)
    }

    // MARK: Options and format

    private static func options(from request: JSONValue, settings: OllamaSettings) throws(GatewayError) -> JSONObject {
        var options = JSONObject()
        for key in sameNameOptions {
            if let value = request[key], case .number = value { options[key] = value }
        }
        // `max_completion_tokens` supersedes `max_tokens` in OpenAI's API.
        if let maxTokens = request["max_completion_tokens"], case .number = maxTokens {
            options["num_predict"] = maxTokens
        } else if let maxTokens = request["max_tokens"], case .number = maxTokens {
            options["num_predict"] = maxTokens
        }
        switch request["stop"] {
        case .string(let stop)?: options["stop"] = [.string(stop)]
        case .array(let stops)?:
            guard stops.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidRequest("Invalid 'stop': expected a string or an array of strings.", param: "stop", code: "invalid_type")
            }
            if !stops.isEmpty { options["stop"] = .array(stops) }
        default: break
        }
        if let contextLength = settings.contextLength { options["num_ctx"] = .integer(contextLength) }
        return options
    }

    private static func format(from responseFormat: JSONValue?) throws(GatewayError) -> JSONValue? {
        guard let responseFormat, !responseFormat.isNull else { return nil }
        switch responseFormat["type"]?.stringValue {
        case "text": return nil
        case "json_object": return "json"
        case "json_schema":
            guard let schema = responseFormat["json_schema"]?["schema"], case .object = schema else {
                throw .invalidRequest(
                    "Missing required parameter: 'response_format.json_schema.schema' (the JSON Schema the answer must follow).",
                    param: "response_format.json_schema.schema",
                    code: "missing_required_parameter"
                )
            }
            return schema
        default:
            throw .invalidRequest(
                "Invalid value for 'response_format.type': supported values are 'text', 'json_object' and 'json_schema'.",
                param: "response_format.type",
                code: "invalid_value"
            )
        }
    }
}
