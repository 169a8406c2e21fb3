import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// A validated Anthropic Messages request (`POST /v1/messages`), and its translation into an OpenAI
/// chat-completion body for targets that are not Anthropic.
///
/// Parsing checks what Anthropic checks and answers a 400 `invalid_request_error` whose `param` and
/// message name the path at fault the way Anthropic does (`messages.1.content.0.source.data`).
/// Top-level fields the gateway does not know (`service_tier`, `container`, beta fields) are ignored
/// rather than refused, so that newer clients keep working.
///
/// Some requests can only be served by Anthropic itself: Anthropic-defined tools (server tools such as
/// `web_search_20250305`, and schema-less client tools such as `bash_20250124`), `document` blocks,
/// the blocks those server tools leave in the history, and Files API images. Parsing accepts them and
/// lists them (``serverTools``, ``anthropicOnlyBlocks``) instead of throwing, so that the caller can
/// send such a request to an Anthropic target unchanged; ``chatTranslationError`` is the 400 to answer
/// when no Anthropic target can take it.
///
/// ```swift
/// let request = try MessagesRequest.parse(body)
/// if let error = request.chatTranslationError { throw error }
/// let chat = try ChatCompletionRequest.parse(request.chatBody())
/// ```
public struct MessagesRequest: Sendable {
    /// The `model` the client asked for: a route, a declared model, or `provider/model`.
    public let model: String
    /// `max_tokens`; nil only in a request read by ``parseForCounting(_:)`` that gave none.
    public let maxTokens: Int?
    /// Whether the client asked for a server-sent-event stream (`stream: true`).
    public let isStreaming: Bool
    /// The `type` of every Anthropic-defined tool in `tools` (anything but a custom tool), in order:
    /// only an Anthropic target can run them, and ``chatBody()`` leaves them out.
    public let serverTools: [String]
    /// The path (`messages.2.content.0`) of every block only Anthropic can read, in order: `document`,
    /// `search_result`, server-tool use and result blocks, images from the Files API. ``chatBody()``
    /// leaves them out.
    public let anthropicOnlyBlocks: [String]

    /// The system prompt's texts, in order.
    let system: [String]
    /// The conversation.
    let messages: [Message]
    /// The custom tools.
    let tools: [Tool]
    /// `tool_choice`, when given.
    let toolChoice: MessagesToolChoice?
    /// `tool_choice.disable_parallel_tool_use`.
    let disableParallelToolUse: Bool
    /// `stop_sequences`.
    let stopSequences: [String]
    /// `temperature`, as its JSON number (so no digit changes on the way through).
    let temperature: JSONValue?
    /// `top_p`, as its JSON number.
    let topP: JSONValue?
    /// `top_k`; chat has no equivalent, so it is validated and dropped.
    let topK: Int?
    /// `metadata.user_id`.
    let userID: String?
    /// `thinking.budget_tokens` when `thinking.type` is `enabled`.
    let thinkingBudget: Int?
    /// `output_config.format.schema`: the JSON schema the answer must follow, when asked.
    let outputSchema: JSONValue?

    /// One turn of the conversation.
    struct Message: Sendable, Equatable {
        /// Who spoke.
        var role: Role
        /// What was said; a string `content` is one text block.
        var blocks: [MessagesContentBlock]
    }

    /// The roles a Messages turn may have.
    enum Role: String, Sendable {
        case user
        case assistant
    }

    /// A custom tool: a function the client runs.
    struct Tool: Sendable, Equatable {
        /// The tool's name.
        var name: String
        /// What the tool does, for the model.
        var description: String?
        /// The JSON Schema of the tool's input.
        var inputSchema: JSONValue
    }

    /// Parses and validates a `POST /v1/messages` body.
    ///
    /// - Throws: ``GatewayError`` with status 400 and type `invalid_request_error` whose `param` is
    ///   the path at fault.
    public static func parse(_ body: ByteBuffer) throws(GatewayError) -> MessagesRequest {
        var reader = MessagesRequestReader()
        return try reader.read(body, requiringMaxTokens: true)
    }

    /// Parses and validates a `POST /v1/messages/count_tokens` body: a Messages body whose
    /// `max_tokens` may be left out.
    ///
    /// - Throws: ``GatewayError`` with status 400 and type `invalid_request_error`.
    public static func parseForCounting(_ body: ByteBuffer) throws(GatewayError) -> MessagesRequest {
        var reader = MessagesRequestReader()
        return try reader.read(body, requiringMaxTokens: false)
    }

    /// The 400 to answer when this request cannot be translated to chat, because it uses
    /// Anthropic-defined tools or blocks only Anthropic reads; nil when it can.
    ///
    /// Ask it only for a request that no Anthropic target will take: an Anthropic target is sent the
    /// client's body as it is.
    public var chatTranslationError: GatewayError? {
        if let tool = serverTools.first {
            return .invalidRequest(
                "tools: '\(EchoedName.shortened(tool))' is an Anthropic-defined tool, which only an Anthropic model can run, "
                    + "and '\(EchoedName.shortened(model))' has no Anthropic target. Use a custom tool (with an input_schema) "
                    + "or a model served by Anthropic.",
                param: "tools",
                code: "unsupported_parameter"
            )
        }
        if let path = anthropicOnlyBlocks.first {
            return .invalidRequest(
                "\(path): this block type can only be read by an Anthropic model, and '\(EchoedName.shortened(model))' "
                    + "has no Anthropic target. Send its content as text or image blocks, or use a model served by Anthropic.",
                param: path,
                code: "unsupported_parameter"
            )
        }
        return nil
    }

    /// The OpenAI chat-completion body that asks the same of a chat model.
    ///
    /// - `model`, `max_tokens`, `temperature` and `top_p` as they are; `top_k` is dropped (chat has
    ///   none); `stop_sequences` → `stop`; `metadata.user_id` → `user`.
    /// - `system` → one leading `system` message (texts of a block array joined with a newline).
    /// - A user turn: its `tool_result` blocks first, each a `tool` message (text joined with newlines;
    ///   `is_error` is dropped, as chat has no such flag), right after the assistant message whose
    ///   `tool_calls` they answer; then one `user` message with the turn's other content, as a string
    ///   when it is one text block and as `text` / `image_url` parts otherwise (base64 images become
    ///   `data:` URLs). Images inside a tool result join that user message, because a chat `tool`
    ///   message holds text only.
    /// - An assistant turn: one `assistant` message with its texts joined as `content` (null when it
    ///   has none) and its `tool_use` blocks as `tool_calls` (`arguments` = `input` serialised);
    ///   `thinking` blocks are dropped, and a turn left empty is left out.
    /// - Custom tools → function tools (`parameters` = `input_schema`); Anthropic-defined tools and
    ///   Anthropic-only blocks are left out. `tool_choice`: `any` → `required`, `tool` → the named
    ///   function, `none` → `none`; `disable_parallel_tool_use` → `parallel_tool_calls: false`; both
    ///   only when there is a tool, since chat refuses a choice without tools.
    /// - `thinking.budget_tokens` → `reasoning_effort`: `low` below 4096, `medium` below 16384,
    ///   `high` from there.
    /// - `output_config.format` (`json_schema`) → `response_format` of type `json_schema`, named
    ///   `output`, strict.
    /// - A stream asks for the final usage chunk (`stream_options.include_usage`).
    public func chatBody() -> ByteBuffer {
        var body: JSONValue = ["model": .string(model)]
        // `max_completion_tokens`, which OpenAI's reasoning models require (they refuse
        // `max_tokens`) and every provider adapter of the gateway reads, as for Responses.
        if let maxTokens { body["max_completion_tokens"] = .integer(maxTokens) }
        var chatMessages: [JSONValue] = []
        let systemText = system.joined(separator: "\n")
        if !systemText.isEmpty { chatMessages.append(["role": "system", "content": .string(systemText)]) }
        for message in messages {
            switch message.role {
            case .user: Self.appendUserTurn(message.blocks, to: &chatMessages)
            case .assistant: Self.appendAssistantTurn(message.blocks, to: &chatMessages)
            }
        }
        body["messages"] = .array(chatMessages)
        if !tools.isEmpty {
            body["tools"] = .array(tools.map(Self.chatTool))
            if let toolChoice { body["tool_choice"] = toolChoice.chatValue }
            if disableParallelToolUse { body["parallel_tool_calls"] = false }
        }
        if !stopSequences.isEmpty { body["stop"] = .array(stopSequences.map(JSONValue.string)) }
        if let temperature { body["temperature"] = temperature }
        if let topP { body["top_p"] = topP }
        if let userID, !userID.isEmpty { body["user"] = .string(userID) }
        if let thinkingBudget { body["reasoning_effort"] = .string(Self.reasoningEffort(forBudget: thinkingBudget)) }
        if let outputSchema {
            body["response_format"] = [
                "type": "json_schema",
                "json_schema": ["name": "output", "schema": outputSchema, "strict": true],
            ]
        }
        if isStreaming {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        return body.buffer
    }

    /// Chat's `reasoning_effort` for a thinking budget of `tokens`.
    static func reasoningEffort(forBudget tokens: Int) -> String {
        switch tokens {
        case ..<4096: "low"
        case ..<16384: "medium"
        default: "high"
        }
    }

    /// Appends a user turn: a `tool` message per tool result, then a `user` message with the rest.
    private static func appendUserTurn(_ blocks: [MessagesContentBlock], to chatMessages: inout [JSONValue]) {
        var parts: [JSONValue] = []
        for block in blocks {
            switch block {
            case .text(let text):
                parts.append(["type": "text", "text": .string(text)])
            case .image(let source):
                parts.append(imagePart(source))
            case .toolResult(let toolUseID, let content, _):
                var texts: [String] = []
                for inner in content {
                    switch inner {
                    case .text(let text): texts.append(text)
                    case .image(let source): parts.append(imagePart(source))
                    default: break
                    }
                }
                chatMessages.append(["role": "tool", "tool_call_id": .string(toolUseID), "content": .string(texts.joined(separator: "\n"))])
            case .toolUse, .thinking, .anthropicOnly:
                break
            }
        }
        guard !parts.isEmpty else { return }
        if parts.count == 1, parts[0]["type"] == "text", let text = parts[0]["text"] {
            chatMessages.append(["role": "user", "content": text])
        } else {
            chatMessages.append(["role": "user", "content": .array(parts)])
        }
    }

    /// Appends an assistant turn: its text as `content` and its tool uses as `tool_calls`.
    private static func appendAssistantTurn(_ blocks: [MessagesContentBlock], to chatMessages: inout [JSONValue]) {
        var text = ""
        var toolCalls: [JSONValue] = []
        for block in blocks {
            switch block {
            case .text(let piece):
                text += piece
            case .toolUse(let id, let name, let input):
                toolCalls.append([
                    "id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(input.text)],
                ])
            case .image, .toolResult, .thinking, .anthropicOnly:
                break
            }
        }
        guard !text.isEmpty || !toolCalls.isEmpty else { return }
        var message: JSONValue = ["role": "assistant", "content": text.isEmpty ? .null : .string(text)]
        if !toolCalls.isEmpty { message["tool_calls"] = .array(toolCalls) }
        chatMessages.append(message)
    }

    private static func imagePart(_ source: MessagesContentBlock.ImageSource) -> JSONValue {
        ["type": "image_url", "image_url": ["url": .string(source.chatURL)]]
    }

    private static func chatTool(_ tool: Tool) -> JSONValue {
        var function: JSONValue = ["name": .string(tool.name)]
        if let description = tool.description { function["description"] = .string(description) }
        function["parameters"] = tool.inputSchema
        return ["type": "function", "function": function]
    }
}
