import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// Reads a Messages body into a ``MessagesRequest``, checking each field's presence and type and
/// naming the path of the first one that is wrong, in Anthropic's words
/// (`messages.1.content.0: Input tag 'foo' found using 'type' does not match any of the expected tags: …`).
///
/// `null` in an optional field counts as absent; in a required field, as missing.
struct MessagesRequestReader {
    /// Anthropic-defined tools met so far.
    private var serverTools: [String] = []
    /// Paths of blocks only Anthropic reads, met so far.
    private var anthropicOnlyBlocks: [String] = []

    /// The block types a message may hold; from `document` on, only Anthropic reads them, so they are
    /// recorded in ``MessagesRequest/anthropicOnlyBlocks`` and left out of the chat body.
    static let blockTypes = [
        "text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking", "document", "search_result",
        "server_tool_use", "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result",
        "bash_code_execution_tool_result", "text_editor_code_execution_tool_result", "mcp_tool_use", "mcp_tool_result",
        "container_upload",
    ]
    /// The media types Anthropic accepts for base64 images.
    static let imageMediaTypes = ["image/jpeg", "image/png", "image/gif", "image/webp"]

    /// Reads `body`.
    ///
    /// - Parameter requiringMaxTokens: False for `count_tokens`, whose body needs no `max_tokens`.
    mutating func read(_ body: ByteBuffer, requiringMaxTokens: Bool) throws(GatewayError) -> MessagesRequest {
        let json = try RequestBodyJSON.parse(body, requiredFields: "'model', 'max_tokens' and 'messages'")
        guard case .object = json else {
            throw .invalidRequest("The request body must be a JSON object, but it is \(json.kind.description).", code: "invalid_json")
        }
        let model = try Self.requiredString(json["model"], at: "model")
        guard !model.isEmpty else {
            throw .invalidRequest("model: String should have at least 1 character", param: "model", code: "invalid_value")
        }
        let maxTokens: Int?
        if requiringMaxTokens || Self.isPresent(json["max_tokens"]) {
            maxTokens = try Self.integer(json["max_tokens"], at: "max_tokens", minimum: 1)
        } else {
            maxTokens = nil
        }
        let messageValues = try Self.requiredArray(json["messages"], at: "messages")
        guard !messageValues.isEmpty else {
            throw .invalidRequest("messages: at least one message is required", param: "messages", code: "empty_array")
        }
        var messages: [MessagesRequest.Message] = []
        messages.reserveCapacity(messageValues.count)
        for (index, value) in messageValues.enumerated() {
            messages.append(try message(value, at: "messages.\(index)"))
        }
        let system = try Self.system(json["system"])
        let tools = try readTools(json["tools"])
        let (toolChoice, disableParallel) = try Self.toolChoice(json["tool_choice"])
        var stopSequences: [String] = []
        if Self.isPresent(json["stop_sequences"]) {
            for (index, value) in try Self.requiredArray(json["stop_sequences"], at: "stop_sequences").enumerated() {
                stopSequences.append(try Self.requiredString(value, at: "stop_sequences.\(index)"))
            }
        }
        let temperature = try Self.number(json["temperature"], at: "temperature", in: 0...1)
        let topP = try Self.number(json["top_p"], at: "top_p", in: 0...1)
        let topK = try Self.isPresent(json["top_k"]) ? Self.integer(json["top_k"], at: "top_k", minimum: 0) : nil
        var userID: String?
        if Self.isPresent(json["metadata"]) {
            let metadata = try Self.requiredObject(json["metadata"], at: "metadata")
            userID = try Self.optionalString(metadata["user_id"], at: "metadata.user_id")
        }
        let isStreaming = try Self.optionalBool(json["stream"], at: "stream") ?? false
        let thinkingBudget = try Self.thinkingBudget(json["thinking"])
        let outputSchema = try Self.outputSchema(json["output_config"])
        return MessagesRequest(
            model: model,
            maxTokens: maxTokens,
            isStreaming: isStreaming,
            serverTools: serverTools,
            anthropicOnlyBlocks: anthropicOnlyBlocks,
            system: system,
            messages: messages,
            tools: tools,
            toolChoice: toolChoice,
            disableParallelToolUse: disableParallel,
            stopSequences: stopSequences,
            temperature: temperature,
            topP: topP,
            topK: topK,
            userID: userID,
            thinkingBudget: thinkingBudget,
            outputSchema: outputSchema
        )
    }

    /// `output_config.format.schema` when the client asks for JSON output (`type: json_schema`).
    private static func outputSchema(_ value: JSONValue?) throws(GatewayError) -> JSONValue? {
        guard isPresent(value) else { return nil }
        let config = try requiredObject(value, at: "output_config")
        guard isPresent(config["format"]) else { return nil }
        let format = try requiredObject(config["format"], at: "output_config.format")
        _ = try blockType(format, at: "output_config.format", expected: ["json_schema"])
        _ = try requiredObject(format["schema"], at: "output_config.format.schema")
        return format["schema"]
    }

    // MARK: Messages

    private mutating func message(_ value: JSONValue, at path: String) throws(GatewayError) -> MessagesRequest.Message {
        let fields = try Self.requiredObject(value, at: path)
        let roleName = try Self.requiredString(fields["role"], at: "\(path).role")
        guard let role = MessagesRequest.Role(rawValue: roleName) else {
            throw .invalidRequest(
                "\(path).role: Input should be 'user' or 'assistant', but got '\(EchoedName.shortened(roleName))'",
                param: "\(path).role",
                code: "invalid_value"
            )
        }
        switch fields["content"] {
        case nil, .null?:
            throw Self.missing("\(path).content")
        case .string(let text)?:
            return MessagesRequest.Message(role: role, blocks: [.text(text)])
        case .array(let values)?:
            var blocks: [MessagesContentBlock] = []
            blocks.reserveCapacity(values.count)
            for (index, block) in values.enumerated() {
                blocks.append(try self.block(block, at: "\(path).content.\(index)", role: role))
            }
            return MessagesRequest.Message(role: role, blocks: blocks)
        case let other?:
            throw Self.wrongType("\(path).content", expected: "a string or an array of content blocks", got: other)
        }
    }

    private mutating func block(
        _ value: JSONValue,
        at path: String,
        role: MessagesRequest.Role
    ) throws(GatewayError) -> MessagesContentBlock {
        let type = try Self.blockType(value, at: path, expected: Self.blockTypes)
        switch type {
        case "text":
            return .text(try Self.requiredString(value["text"], at: "\(path).text"))
        case "image":
            guard role == .user else { throw Self.misplaced(path, type: type, role: role) }
            return try image(value, at: path)
        case "tool_use":
            guard role == .assistant else { throw Self.misplaced(path, type: type, role: role) }
            let id = try Self.requiredString(value["id"], at: "\(path).id")
            let name = try Self.requiredString(value["name"], at: "\(path).name")
            let input = try Self.requiredObject(value["input"], at: "\(path).input")
            return .toolUse(id: id, name: name, input: input)
        case "tool_result":
            guard role == .user else { throw Self.misplaced(path, type: type, role: role) }
            return try toolResult(value, at: path)
        case "thinking":
            _ = try Self.requiredString(value["thinking"], at: "\(path).thinking")
            return .thinking
        case "redacted_thinking":
            _ = try Self.requiredString(value["data"], at: "\(path).data")
            return .thinking
        default:
            anthropicOnlyBlocks.append(path)
            return .anthropicOnly
        }
    }

    private mutating func image(_ value: JSONValue, at path: String) throws(GatewayError) -> MessagesContentBlock {
        let sourcePath = "\(path).source"
        let source = try Self.requiredObject(value["source"], at: sourcePath)
        switch try Self.blockType(source, at: sourcePath, expected: ["base64", "url", "file"]) {
        case "base64":
            let mediaType = try Self.requiredString(source["media_type"], at: "\(sourcePath).media_type")
            guard Self.imageMediaTypes.contains(mediaType) else {
                throw .invalidRequest(
                    "\(sourcePath).media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp', "
                        + "but got '\(EchoedName.shortened(mediaType))'",
                    param: "\(sourcePath).media_type",
                    code: "invalid_value"
                )
            }
            let data = try Self.requiredString(source["data"], at: "\(sourcePath).data")
            guard !data.isEmpty else {
                throw .invalidRequest(
                    "\(sourcePath).data: image data must not be empty",
                    param: "\(sourcePath).data",
                    code: "invalid_value"
                )
            }
            return .image(.base64(mediaType: mediaType, data: data))
        case "url":
            let url = try Self.requiredString(source["url"], at: "\(sourcePath).url")
            let lowercased = url.prefix(8).lowercased()
            guard lowercased.hasPrefix("https://") || lowercased.hasPrefix("http://") else {
                throw .invalidRequest(
                    "\(sourcePath).url: expected an http or https URL",
                    param: "\(sourcePath).url",
                    code: "invalid_value"
                )
            }
            return .image(.url(url))
        default:
            // A Files API image: only Anthropic has the file.
            anthropicOnlyBlocks.append(path)
            return .anthropicOnly
        }
    }

    private mutating func toolResult(_ value: JSONValue, at path: String) throws(GatewayError) -> MessagesContentBlock {
        let id = try Self.requiredString(value["tool_use_id"], at: "\(path).tool_use_id")
        let isError = try Self.optionalBool(value["is_error"], at: "\(path).is_error") ?? false
        var content: [MessagesContentBlock] = []
        switch value["content"] {
        case nil, .null?:
            break
        case .string(let text)?:
            content = [.text(text)]
        case .array(let values)?:
            for (index, inner) in values.enumerated() {
                let innerPath = "\(path).content.\(index)"
                switch try Self.blockType(inner, at: innerPath, expected: ["text", "image", "document", "search_result"]) {
                case "text": content.append(.text(try Self.requiredString(inner["text"], at: "\(innerPath).text")))
                case "image": content.append(try image(inner, at: innerPath))
                default: anthropicOnlyBlocks.append(innerPath)
                }
            }
        case let other?:
            throw Self.wrongType("\(path).content", expected: "a string or an array of content blocks", got: other)
        }
        return .toolResult(toolUseID: id, content: content, isError: isError)
    }

    // MARK: System, tools, parameters

    private static func system(_ value: JSONValue?) throws(GatewayError) -> [String] {
        switch value {
        case nil, .null?:
            return []
        case .string(let text)?:
            return text.isEmpty ? [] : [text]
        case .array(let blocks)?:
            var texts: [String] = []
            for (index, block) in blocks.enumerated() {
                _ = try blockType(block, at: "system.\(index)", expected: ["text"])
                texts.append(try requiredString(block["text"], at: "system.\(index).text"))
            }
            return texts
        case let other?:
            throw wrongType("system", expected: "a string or an array of text blocks", got: other)
        }
    }

    private mutating func readTools(_ value: JSONValue?) throws(GatewayError) -> [MessagesRequest.Tool] {
        guard Self.isPresent(value) else { return [] }
        var tools: [MessagesRequest.Tool] = []
        for (index, tool) in try Self.requiredArray(value, at: "tools").enumerated() {
            let path = "tools.\(index)"
            _ = try Self.requiredObject(tool, at: path)
            if Self.isPresent(tool["type"]) {
                let type = try Self.requiredString(tool["type"], at: "\(path).type")
                if type != "custom" {
                    serverTools.append(type)
                    continue
                }
            }
            let name = try Self.requiredString(tool["name"], at: "\(path).name")
            guard !name.isEmpty else {
                throw .invalidRequest("\(path).name: String should have at least 1 character", param: "\(path).name", code: "invalid_value")
            }
            let description = try Self.optionalString(tool["description"], at: "\(path).description")
            let schema = try Self.requiredObject(tool["input_schema"], at: "\(path).input_schema")
            tools.append(MessagesRequest.Tool(name: name, description: description, inputSchema: schema))
        }
        return tools
    }

    private static func toolChoice(_ value: JSONValue?) throws(GatewayError) -> (MessagesToolChoice?, Bool) {
        guard isPresent(value) else { return (nil, false) }
        let fields = try requiredObject(value, at: "tool_choice")
        let choice: MessagesToolChoice
        switch try blockType(fields, at: "tool_choice", expected: ["auto", "any", "tool", "none"]) {
        case "auto": choice = .auto
        case "any": choice = .any
        case "none": choice = .none
        default: choice = .tool(name: try requiredString(fields["name"], at: "tool_choice.name"))
        }
        let disableParallel = try optionalBool(fields["disable_parallel_tool_use"], at: "tool_choice.disable_parallel_tool_use") ?? false
        return (choice, disableParallel)
    }

    private static func thinkingBudget(_ value: JSONValue?) throws(GatewayError) -> Int? {
        guard isPresent(value) else { return nil }
        let fields = try requiredObject(value, at: "thinking")
        switch try blockType(fields, at: "thinking", expected: ["enabled", "disabled", "adaptive"]) {
        case "enabled": return try integer(fields["budget_tokens"], at: "thinking.budget_tokens", minimum: 1)
        default: return nil
        }
    }

    // MARK: Field readers

    /// Whether an optional field is given (`null` counts as absent).
    private static func isPresent(_ value: JSONValue?) -> Bool {
        value != nil && value != .null
    }

    /// The `type` of a tagged object at `path`, which must be one of `expected`.
    private static func blockType(_ value: JSONValue, at path: String, expected: [String]) throws(GatewayError) -> String {
        let fields = try requiredObject(value, at: path)
        guard let typeValue = fields["type"], typeValue != .null else {
            throw .invalidRequest(
                "\(path): Unable to extract tag using discriminator 'type'",
                param: "\(path).type",
                code: "missing_required_parameter"
            )
        }
        guard let type = typeValue.stringValue else { throw wrongType("\(path).type", expected: "a string", got: typeValue) }
        guard expected.contains(type) else {
            throw .invalidRequest(
                "\(path): Input tag '\(EchoedName.shortened(type))' found using 'type' does not match any of the expected tags: "
                    + expected.map { "'\($0)'" }.joined(separator: ", "),
                param: "\(path).type",
                code: "invalid_value"
            )
        }
        return type
    }

    private static func requiredString(_ value: JSONValue?, at path: String) throws(GatewayError) -> String {
        guard let value, value != .null else { throw missing(path) }
        guard let string = value.stringValue else { throw wrongType(path, expected: "a string", got: value) }
        return string
    }

    private static func optionalString(_ value: JSONValue?, at path: String) throws(GatewayError) -> String? {
        guard isPresent(value) else { return nil }
        return try requiredString(value, at: path)
    }

    private static func optionalBool(_ value: JSONValue?, at path: String) throws(GatewayError) -> Bool? {
        guard let value, value != .null else { return nil }
        guard let bool = value.boolValue else { throw wrongType(path, expected: "a boolean", got: value) }
        return bool
    }

    private static func requiredObject(_ value: JSONValue?, at path: String) throws(GatewayError) -> JSONValue {
        guard let value, value != .null else { throw missing(path) }
        guard case .object = value else { throw wrongType(path, expected: "an object", got: value) }
        return value
    }

    private static func requiredArray(_ value: JSONValue?, at path: String) throws(GatewayError) -> [JSONValue] {
        guard let value, value != .null else { throw missing(path) }
        guard let array = value.arrayValue else { throw wrongType(path, expected: "an array", got: value) }
        return array
    }

    private static func integer(_ value: JSONValue?, at path: String, minimum: Int) throws(GatewayError) -> Int {
        guard let value, value != .null else { throw missing(path) }
        guard let integer = value.intValue else { throw wrongType(path, expected: "an integer", got: value) }
        guard integer >= minimum else {
            throw .invalidRequest(
                "\(path): Input should be greater than or equal to \(minimum), but got \(integer)",
                param: path,
                code: "integer_below_min_value"
            )
        }
        return integer
    }

    /// An optional number within `range`, kept as its JSON text.
    private static func number(_ value: JSONValue?, at path: String, in range: ClosedRange<Double>) throws(GatewayError) -> JSONValue? {
        guard let value, value != .null else { return nil }
        guard let number = value.doubleValue else { throw wrongType(path, expected: "a number", got: value) }
        guard range.contains(number) else {
            throw .invalidRequest(
                "\(path): Input should be between \(JSONValue.double(range.lowerBound).text) and \(JSONValue.double(range.upperBound).text), "
                    + "but got \(value.text)",
                param: path,
                code: "invalid_value"
            )
        }
        return value
    }

    private static func missing(_ path: String) -> GatewayError {
        .invalidRequest("\(path): Field required", param: path, code: "missing_required_parameter")
    }

    private static func wrongType(_ path: String, expected: String, got value: JSONValue) -> GatewayError {
        let got: String
        switch value {
        case .number(let text) where expected == "an integer": got = "the number \(EchoedName.shortened(text))"
        default: got = value.kind.description
        }
        return .invalidRequest("\(path): Input should be \(expected), but got \(got)", param: path, code: "invalid_type")
    }

    private static func misplaced(_ path: String, type: String, role: MessagesRequest.Role) -> GatewayError {
        let allowed = role == .user ? "assistant" : "user"
        return .invalidRequest(
            "\(path): '\(type)' blocks are only allowed in \(allowed) messages, but this is a\(role == .user ? "" : "n") \(role.rawValue) message",
            param: "\(path).type",
            code: "invalid_value"
        )
    }
}
