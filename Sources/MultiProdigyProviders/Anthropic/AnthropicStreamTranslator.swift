import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore

/// Reads Anthropic's Messages stream (`event:` + `data:` SSE) and emits OpenAI chunks.
///
/// - `message_start` → the role chunk; its id, model and input usage are kept.
/// - `content_block_start` of a `tool_use` block → the tool call's first delta (index, id, type,
///   name); `text_delta` → `content`; `input_json_delta` → the call's `arguments` pieces. OpenAI's
///   tool-call `index` counts tool calls only, while Anthropic's block `index` counts every block.
/// - Thinking blocks, `ping` and unknown events are skipped.
/// - `message_delta` only records the stop reason and the (cumulative) usage. The finish chunk, the
///   usage chunk (when the client asked for it) and ``ChatStreamEvent/done`` all wait for
///   `message_stop`, so a stream cut before it never looks finished.
/// - `event: error` throws its ``ProviderError`` (an `overloaded_error` is retryable).
struct AnthropicStreamTranslator: StreamTranslator {
    private let includeUsage: Bool
    private let providerName: String
    private let created: Int
    private var model: String
    private var id: String?
    private var started = false
    private var finished = false
    private var toolIndexByBlock: [Int: Int] = [:]
    private var stopReason: String?
    private var inputTokens = 0
    private var outputTokens = 0
    private var cacheReadTokens: Int?
    private var cacheCreationTokens = 0

    /// Creates a translator for one stream.
    ///
    /// - Parameters:
    ///   - model: The model named in chunks until `message_start` names one.
    ///   - includeUsage: Whether to send OpenAI's final usage chunk.
    ///   - providerName: The provider's name, for error messages.
    ///   - created: The chunks' `created` timestamp.
    init(model: String, includeUsage: Bool, providerName: String, created: Int) {
        self.model = model
        self.includeUsage = includeUsage
        self.providerName = providerName
        self.created = created
    }

    mutating func translate(_ event: SSEEvent) throws -> [ChatStreamEvent] {
        guard !finished, !event.data.isEmpty else { return [] }
        // Most events carry a piece of text: read those from their bytes, with no tree.
        if let text = Self.textDelta(in: event.data) {
            var events = startIfNeeded()
            if !text.isEmpty { events.append(.chunk(OpenAIChunk.content(text, id: id ?? "", created: created, model: model))) }
            return events
        }
        let payload: JSONValue
        do {
            payload = try JSONValue.parse(ByteBuffer(bytes: event.data))
        } catch {
            throw ProviderError(kind: .protocolViolation, message: "\(providerName) sent a stream event that is not valid JSON")
        }
        switch payload["type"]?.stringValue ?? event.name ?? "" {
        case "message_start":
            return messageStarted(payload["message"] ?? .null)
        case "content_block_start":
            return blockStarted(index: payload["index"]?.intValue ?? 0, block: payload["content_block"] ?? .null)
        case "content_block_delta":
            return blockDelta(index: payload["index"]?.intValue ?? 0, delta: payload["delta"] ?? .null)
        case "message_delta":
            if let reason = payload["delta"]?["stop_reason"]?.stringValue { stopReason = reason }
            if let usage = payload["usage"] { recordUsage(usage) }
            return []
        case "message_stop":
            return messageStopped()
        case "error":
            throw AnthropicErrorMapping.streamError(payload, provider: providerName)
        default:
            // ping, content_block_stop, and event types added after this adapter was written.
            return []
        }
    }

    mutating func finish() throws -> [ChatStreamEvent] {
        // No message_stop: the answer was cut, so no `.done`.
        []
    }

    // MARK: Events

    /// The text of a `content_block_delta` whose delta is a `text_delta`; nil for any other event,
    /// or one that is not valid JSON (the tree path reads those).
    static func textDelta(in data: [UInt8]) -> String? {
        data.withUnsafeBytes { bytes -> String? in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes), !members.hasDuplicateKeys,
                let type = members.first(where: { $0.key == "type" }), type.kind == .string,
                JSONScanner.decodeString(at: type.value, in: bytes) == "content_block_delta",
                let delta = members.first(where: { $0.key == "delta" }), delta.kind == .object,
                let deltaMembers = try? JSONScanner.members(ofObjectAt: delta.value, in: bytes), !deltaMembers.hasDuplicateKeys,
                let deltaType = deltaMembers.first(where: { $0.key == "type" }), deltaType.kind == .string,
                JSONScanner.decodeString(at: deltaType.value, in: bytes) == "text_delta",
                let text = deltaMembers.first(where: { $0.key == "text" }), text.kind == .string
            else { return nil }
            return JSONScanner.decodeString(at: text.value, in: bytes)
        }
    }

    private mutating func messageStarted(_ message: JSONValue) -> [ChatStreamEvent] {
        if id == nil { id = AnthropicResponseTranslator.completionID(messageID: message["id"]?.stringValue) }
        if let name = message["model"]?.stringValue, !name.isEmpty { model = name }
        if let usage = message["usage"] { recordUsage(usage) }
        return startIfNeeded()
    }

    private mutating func blockStarted(index: Int, block: JSONValue) -> [ChatStreamEvent] {
        var events = startIfNeeded()
        switch block["type"]?.stringValue {
        case "text":
            if let text = block["text"]?.stringValue, !text.isEmpty { events.append(chunk(delta: ["content": .string(text)])) }
        case "tool_use":
            let toolIndex = toolIndexByBlock.count
            toolIndexByBlock[index] = toolIndex
            let call: JSONValue = [
                "index": .integer(toolIndex),
                "id": .string(block["id"]?.stringValue ?? ""),
                "type": "function",
                "function": ["name": .string(block["name"]?.stringValue ?? ""), "arguments": ""],
            ]
            events.append(chunk(delta: ["tool_calls": [call]]))
        default:
            break
        }
        return events
    }

    private mutating func blockDelta(index: Int, delta: JSONValue) -> [ChatStreamEvent] {
        var events = startIfNeeded()
        switch delta["type"]?.stringValue {
        case "text_delta":
            if let text = delta["text"]?.stringValue, !text.isEmpty { events.append(chunk(delta: ["content": .string(text)])) }
        case "input_json_delta":
            if let toolIndex = toolIndexByBlock[index], let json = delta["partial_json"]?.stringValue, !json.isEmpty {
                let call: JSONValue = ["index": .integer(toolIndex), "function": ["arguments": .string(json)]]
                events.append(chunk(delta: ["tool_calls": [call]]))
            }
        default:
            // thinking_delta, signature_delta, citations_delta: nothing OpenAI's chunk carries.
            break
        }
        return events
    }

    private mutating func messageStopped() -> [ChatStreamEvent] {
        finished = true
        var events = startIfNeeded()
        let reason = AnthropicResponseTranslator.finishReason(for: stopReason, hasToolCalls: !toolIndexByBlock.isEmpty)
        events.append(chunk(delta: .object(JSONObject()), finishReason: reason))
        if includeUsage {
            let usage = AnthropicResponseTranslator.usage(
                input: inputTokens,
                output: outputTokens,
                cacheRead: cacheReadTokens,
                cacheCreation: cacheCreationTokens
            )
            events.append(.chunk(OpenAIChunk.make(id: id ?? "", created: created, model: model, choices: [], usage: usage).buffer))
        }
        events.append(.done)
        return events
    }

    /// Usage in `message_start` and `message_delta`; both are cumulative, so the latest value wins.
    private mutating func recordUsage(_ usage: JSONValue) {
        if let value = usage["input_tokens"]?.intValue { inputTokens = value }
        if let value = usage["output_tokens"]?.intValue { outputTokens = value }
        if let value = usage["cache_read_input_tokens"]?.intValue { cacheReadTokens = value }
        if let value = usage["cache_creation_input_tokens"]?.intValue { cacheCreationTokens = value }
    }

    // MARK: Chunks

    /// The role chunk, the first time any event calls for output.
    private mutating func startIfNeeded() -> [ChatStreamEvent] {
        guard !started else { return [] }
        started = true
        if id == nil { id = AnthropicResponseTranslator.completionID(messageID: nil) }
        return [chunk(delta: ["role": "assistant", "content": ""])]
    }

    private func chunk(delta: JSONValue, finishReason: String? = nil) -> ChatStreamEvent {
        let choice: JSONValue = ["index": 0, "delta": delta, "finish_reason": finishReason.map(JSONValue.string) ?? .null]
        return .chunk(OpenAIChunk.make(id: id ?? "", created: created, model: model, choices: [choice]).buffer)
    }
}
