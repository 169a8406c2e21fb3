import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore

/// Translates an OpenAI chat-completion request into an Anthropic Messages API request
/// (`POST /v1/messages`).
///
/// - `system` and `developer` messages, wherever they appear, become the top-level `system`.
/// - `max_completion_tokens`, else `max_tokens`, else the provider's default becomes `max_tokens`,
///   which Anthropic requires.
/// - Turns alternate: consecutive messages of one role are merged, and consecutive `tool` messages
///   become one `user` turn of `tool_result` blocks.
/// - Assistant `tool_calls` become `tool_use` blocks whose `input` is the parsed arguments object.
/// - Images: `data:` URLs become base64 sources, `http(s)` URLs URL sources.
/// - `stop` → `stop_sequences`, `user` → `metadata.user_id`, `temperature` is capped at 1 (Anthropic's
///   maximum), `top_p` as is; `tools` and `tool_choice` in Anthropic's shape, with
///   `parallel_tool_calls: false` → `disable_parallel_tool_use`.
/// - Refused with a 400: `n` > 1, `response_format` other than `text`, content parts other than
///   text and images, roles Anthropic has no equivalent for, and tool-call arguments that are not
///   a JSON object.
/// - Dropped, as Anthropic has no equivalent: `frequency_penalty`, `presence_penalty`, `seed`,
///   `logit_bias`, `logprobs`, `top_logprobs`, `metadata`, `stream_options` (usage is always reported).
enum AnthropicRequestTranslator {
    /// The request body for `model`, from the client's OpenAI body.
    ///
    /// - Parameters:
    ///   - body: The client's validated OpenAI request.
    ///   - model: The model name Anthropic knows.
    ///   - stream: Whether to ask for a stream.
    ///   - defaultMaxTokens: `max_tokens` when the client gave none.
    /// - Throws: ``GatewayError`` (400) for what Anthropic cannot express.
    package static func request(from body: ByteBuffer, model: String, stream: Bool, defaultMaxTokens: Int) throws(GatewayError) -> JSONValue
    {
        let json: JSONValue
        do {
            json = try JSONValue.parse(body)
        } catch {
            throw .invalidRequest("We could not parse the JSON body of your request. Send a valid JSON object.", code: "invalid_json")
        }
        return try request(from: json, model: model, stream: stream, defaultMaxTokens: defaultMaxTokens)
    }

    /// The request body for `model`, from the client's OpenAI body as a JSON value.
    ///
    /// - Throws: ``GatewayError`` (400) for what Anthropic cannot express.
    package static func request(from body: JSONValue, model: String, stream: Bool, defaultMaxTokens: Int) throws(GatewayError) -> JSONValue
    {
        if let n = body["n"]?.intValue, n > 1 {
            throw .invalidRequest(
                "Invalid 'n': Anthropic models return one choice per request, but you asked for \(n). Send n = 1 or leave it out.",
                param: "n",
                code: "unsupported_parameter"
            )
        }
        try checkResponseFormat(body["response_format"])

        var conversation = Conversation()
        for (index, message) in (body["messages"]?.arrayValue ?? []).enumerated() {
            try conversation.add(message, at: index)
        }
        guard !conversation.turns.isEmpty else {
            throw .invalidRequest(
                "Invalid 'messages': Anthropic needs at least one user or assistant message with content, besides system messages.",
                param: "messages",
                code: "invalid_value"
            )
        }

        var out: JSONValue = ["model": .string(model)]
        let maxTokens = body["max_completion_tokens"].flatMap(\.intValue) ?? body["max_tokens"].flatMap(\.intValue) ?? defaultMaxTokens
        out["max_tokens"] = .integer(maxTokens)
        if conversation.system.count == 1 {
            out["system"] = .string(conversation.system[0])
        } else if conversation.system.count > 1 {
            out["system"] = .array(conversation.system.map { ["type": "text", "text": .string($0)] })
        }
        out["messages"] = .array(conversation.turns.map(\.json))
        if let tools = try translateTools(body["tools"]) {
            out["tools"] = tools
            if let choice = try translateToolChoice(body["tool_choice"], parallel: body["parallel_tool_calls"]?.boolValue) {
                out["tool_choice"] = choice
            }
        }
        if let stops = try stopSequences(body["stop"]) { out["stop_sequences"] = stops }
        if let temperature = body["temperature"], case .number = temperature {
            // OpenAI accepts 0–2, Anthropic 0–1: cap rather than refuse what OpenAI clients routinely send.
            out["temperature"] = (temperature.doubleValue ?? 0) > 1 ? .integer(1) : temperature
        }
        if let topP = body["top_p"], case .number = topP { out["top_p"] = topP }
        if let user = body["user"]?.stringValue, !user.isEmpty { out["metadata"] = ["user_id": .string(user)] }
        if stream { out["stream"] = true }
        return out
    }

    // MARK: Messages

    /// One Anthropic turn being built.
    struct Turn {
        package var role: String
        var blocks: [JSONValue]

        /// A lone text block is sent as a plain string, as Anthropic's examples do.
        package var json: JSONValue {
            if blocks.count == 1, blocks[0]["type"] == "text", let text = blocks[0]["text"] {
                return ["role": .string(role), "content": text]
            }
            return ["role": .string(role), "content": .array(blocks)]
        }
    }

    /// The system texts and the alternating turns, built message by message.
    struct Conversation {
        var system: [String] = []
        var turns: [Turn] = []

        package mutating func add(_ message: JSONValue, at index: Int) throws(GatewayError) {
            let param = "messages[\(index)]"
            let role = message["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer":
                let text = try systemText(message["content"], param: "\(param).content")
                if !text.isEmpty { system.append(text) }
            case "user":
                append("user", try userBlocks(message["content"], param: "\(param).content"))
            case "assistant":
                append("assistant", try assistantBlocks(message, param: param))
            case "tool":
                append("user", [try toolResult(message, param: param)])
            default:
                throw .invalidRequest(
                    "Invalid '\(param).role': Anthropic models accept the roles system, developer, user, assistant and tool, "
                        + "but got '\(EchoedName.shortened(role))'.",
                    param: "\(param).role",
                    code: "invalid_value"
                )
            }
        }

        /// Adds blocks to the conversation, merging them into the last turn when it has the same role.
        package mutating func append(_ role: String, _ blocks: [JSONValue]) {
            guard !blocks.isEmpty else { return }
            if let last = turns.indices.last, turns[last].role == role {
                turns[last].blocks.append(contentsOf: blocks)
            } else {
                turns.append(Turn(role: role, blocks: blocks))
            }
        }
    }

    static func systemText(_ content: JSONValue?, param: String) throws(GatewayError) -> String {
        switch content {
        case nil, .null?:
            return ""
        case .string(let text)?:
            return text
        case .array(let parts)?:
            var texts: [String] = []
            for (index, part) in parts.enumerated() {
                guard part["type"] == "text", let text = part["text"]?.stringValue else {
                    throw .invalidRequest(
                        "Invalid '\(param)[\(index)]': system messages for Anthropic models may only contain text parts.",
                        param: "\(param)[\(index)]",
                        code: "invalid_value"
                    )
                }
                texts.append(text)
            }
            return texts.joined(separator: "\n")
        default:
            throw invalidContent(param)
        }
    }

    static func userBlocks(_ content: JSONValue?, param: String) throws(GatewayError) -> [JSONValue] {
        switch content {
        case nil, .null?:
            return []
        case .string(let text)?:
            return text.isEmpty ? [] : [textBlock(text)]
        case .array(let parts)?:
            var blocks: [JSONValue] = []
            for (index, part) in parts.enumerated() {
                let partParam = "\(param)[\(index)]"
                switch part["type"]?.stringValue {
                case "text":
                    if let text = part["text"]?.stringValue, !text.isEmpty { blocks.append(textBlock(text)) }
                case "image_url":
                    let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue
                    guard let url else {
                        throw .invalidRequest(
                            "Missing required parameter: '\(partParam).image_url.url'.",
                            param: "\(partParam).image_url.url",
                            code: "missing_required_parameter"
                        )
                    }
                    blocks.append(try imageBlock(url: url, param: "\(partParam).image_url.url"))
                case let type:
                    throw .invalidRequest(
                        "Invalid '\(partParam).type': Anthropic models accept text and image_url content parts, but got '\(EchoedName.shortened(type ?? ""))'.",
                        param: "\(partParam).type",
                        code: "invalid_value"
                    )
                }
            }
            return blocks
        default:
            throw invalidContent(param)
        }
    }

    static func assistantBlocks(_ message: JSONValue, param: String) throws(GatewayError) -> [JSONValue] {
        var blocks: [JSONValue] = []
        switch message["content"] {
        case nil, .null?:
            break
        case .string(let text)?:
            if !text.isEmpty { blocks.append(textBlock(text)) }
        case .array(let parts)?:
            for (index, part) in parts.enumerated() {
                switch part["type"]?.stringValue {
                case "text":
                    if let text = part["text"]?.stringValue, !text.isEmpty { blocks.append(textBlock(text)) }
                case "refusal":
                    if let text = part["refusal"]?.stringValue, !text.isEmpty { blocks.append(textBlock(text)) }
                case let type:
                    throw .invalidRequest(
                        "Invalid '\(param).content[\(index)].type': assistant messages may contain text and refusal parts, "
                            + "but got '\(EchoedName.shortened(type ?? ""))'.",
                        param: "\(param).content[\(index)].type",
                        code: "invalid_value"
                    )
                }
            }
        default:
            throw invalidContent("\(param).content")
        }
        for (index, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
            blocks.append(try toolUse(call, param: "\(param).tool_calls[\(index)]"))
        }
        return blocks
    }

    static func toolUse(_ call: JSONValue, param: String) throws(GatewayError) -> JSONValue {
        guard let id = call["id"]?.stringValue, !id.isEmpty else {
            throw .invalidRequest("Missing required parameter: '\(param).id'.", param: "\(param).id", code: "missing_required_parameter")
        }
        guard let name = call["function"]?["name"]?.stringValue, !name.isEmpty else {
            throw .invalidRequest(
                "Missing required parameter: '\(param).function.name'.",
                param: "\(param).function.name",
                code: "missing_required_parameter"
            )
        }
        let arguments = call["function"]?["arguments"]?.stringValue ?? ""
        let input: JSONValue
        if arguments.trimmingWhitespace().isEmpty {
            input = .object(JSONObject())
        } else {
            guard let parsed = try? JSONValue.parse(arguments), case .object = parsed else {
                throw .invalidRequest(
                    "Invalid '\(param).function.arguments': Anthropic needs the arguments of a tool call as a JSON object, "
                        + "but they are not one.",
                    param: "\(param).function.arguments",
                    code: "invalid_value"
                )
            }
            input = parsed
        }
        return ["type": "tool_use", "id": .string(id), "name": .string(name), "input": input]
    }

    static func toolResult(_ message: JSONValue, param: String) throws(GatewayError) -> JSONValue {
        guard let id = message["tool_call_id"]?.stringValue, !id.isEmpty else {
            throw .invalidRequest(
                "Missing required parameter: '\(param).tool_call_id'.",
                param: "\(param).tool_call_id",
                code: "missing_required_parameter"
            )
        }
        var block: JSONValue = ["type": "tool_result", "tool_use_id": .string(id)]
        switch message["content"] {
        case nil, .null?:
            break
        case .string(let text)?:
            if !text.isEmpty { block["content"] = .string(text) }
        case .array(let parts)?:
            var blocks: [JSONValue] = []
            for (index, part) in parts.enumerated() {
                guard part["type"] == "text", let text = part["text"]?.stringValue else {
                    throw .invalidRequest(
                        "Invalid '\(param).content[\(index)]': tool messages for Anthropic models may only contain text parts.",
                        param: "\(param).content[\(index)]",
                        code: "invalid_value"
                    )
                }
                if !text.isEmpty { blocks.append(textBlock(text)) }
            }
            if !blocks.isEmpty { block["content"] = .array(blocks) }
        default:
            throw invalidContent("\(param).content")
        }
        return block
    }

    /// An image block from an OpenAI `image_url`: a base64 `data:` URL or an `http(s)` URL.
    static func imageBlock(url: String, param: String) throws(GatewayError) -> JSONValue {
        if url.hasPrefix("data:") {
            let afterScheme = url.dropFirst(5)
            guard let comma = afterScheme.firstIndex(of: ",") else { throw invalidImageURL(param) }
            let header = afterScheme[..<comma].split(separator: ";")
            let data = afterScheme[afterScheme.index(after: comma)...]
            guard let mediaType = header.first, mediaType.contains("/"), header.dropFirst().contains("base64"), !data.isEmpty else {
                throw invalidImageURL(param)
            }
            return [
                "type": "image", "source": ["type": "base64", "media_type": .string(String(mediaType)), "data": .string(String(data))],
            ]
        }
        let lowercased = url.lowercased()
        guard lowercased.hasPrefix("https://") || lowercased.hasPrefix("http://") else { throw invalidImageURL(param) }
        return ["type": "image", "source": ["type": "url", "url": .string(url)]]
    }

    static func textBlock(_ text: String) -> JSONValue {
        ["type": "text", "text": .string(text)]
    }

    static func invalidContent(_ param: String) -> GatewayError {
        .invalidRequest("Invalid type for '\(param)': expected a string or an array of content parts.", param: param, code: "invalid_type")
    }

    static func invalidImageURL(_ param: String) -> GatewayError {
        .invalidRequest(
            "Invalid '\(param)': Anthropic models accept images as https URLs or base64 data URLs "
                + "(data:image/png;base64,...).",
            param: param,
            code: "invalid_value"
        )
    }

    // MARK: Parameters

    static func checkResponseFormat(_ format: JSONValue?) throws(GatewayError) {
        guard let format, !format.isNull else { return }
        let type = format["type"]?.stringValue ?? ""
        guard type == "text" else {
            throw .invalidRequest(
                "Invalid 'response_format': the gateway's Anthropic adapter does not support '\(EchoedName.shortened(type))'. "
                    + "Describe the JSON you want in the prompt, or route this request to a model that supports it.",
                param: "response_format",
                code: "unsupported_parameter"
            )
        }
    }

    static func stopSequences(_ stop: JSONValue?) throws(GatewayError) -> JSONValue? {
        switch stop {
        case .string(let text)?:
            return [.string(text)]
        case .array(let values)? where !values.isEmpty:
            guard values.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidRequest("Invalid 'stop': expected a string or an array of strings.", param: "stop", code: "invalid_type")
            }
            return .array(values)
        default:
            return nil
        }
    }

    static func translateTools(_ tools: JSONValue?) throws(GatewayError) -> JSONValue? {
        guard let tools = tools?.arrayValue, !tools.isEmpty else { return nil }
        var out: [JSONValue] = []
        for (index, tool) in tools.enumerated() {
            let param = "tools[\(index)]"
            guard tool["type"] == "function", let function = tool["function"] else {
                throw .invalidRequest(
                    "Invalid '\(param).type': Anthropic models accept tools of type 'function' only.",
                    param: "\(param).type",
                    code: "invalid_value"
                )
            }
            guard let name = function["name"]?.stringValue, !name.isEmpty else {
                throw .invalidRequest(
                    "Missing required parameter: '\(param).function.name'.",
                    param: "\(param).function.name",
                    code: "missing_required_parameter"
                )
            }
            var translated: JSONValue = ["name": .string(name)]
            if let description = function["description"]?.stringValue { translated["description"] = .string(description) }
            if let schema = function["parameters"], case .object = schema {
                translated["input_schema"] = schema
            } else {
                translated["input_schema"] = ["type": "object", "properties": .object(JSONObject())]
            }
            out.append(translated)
        }
        return .array(out)
    }

    static func translateToolChoice(_ choice: JSONValue?, parallel: Bool?) throws(GatewayError) -> JSONValue? {
        var out: JSONValue
        switch choice {
        case nil, .null?, .string("auto")?:
            out = ["type": "auto"]
        case .string("none")?:
            return ["type": "none"]
        case .string("required")?:
            out = ["type": "any"]
        case .object?:
            guard let name = choice?["function"]?["name"]?.stringValue, !name.isEmpty else {
                throw .invalidRequest(
                    "Missing required parameter: 'tool_choice.function.name'.",
                    param: "tool_choice.function.name",
                    code: "missing_required_parameter"
                )
            }
            out = ["type": "tool", "name": .string(name)]
        default:
            throw .invalidRequest(
                "Invalid 'tool_choice': expected 'auto', 'none', 'required' or {\"type\":\"function\",\"function\":{\"name\":...}}.",
                param: "tool_choice",
                code: "invalid_value"
            )
        }
        if parallel == false {
            out["disable_parallel_tool_use"] = true
        } else if choice == nil || choice == .null {
            // Anthropic's default is auto already; say nothing rather than something redundant.
            return nil
        }
        return out
    }
}
