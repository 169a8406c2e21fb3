import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// Turns the gateway's chat stream, delta by delta, into Anthropic's Messages stream events
/// (`event: <type>\ndata: <json>\n\n`).
///
/// A value-type state machine: the caller feeds it ``start(into:)``, each chunk's ``ChatDelta``
/// through ``render(_:into:)``, then ``finish(usage:costUSD:into:)`` or ``fail(_:into:)``, and
/// writes whatever each call appended to the buffer. Each delta is written as it comes; between
/// calls the renderer keeps only the open block, the block index of each tool call and the last
/// finish reason and usage.
///
/// ```
/// message_start → ping → (content_block_start → content_block_delta… → content_block_stop)…
///   → message_delta → message_stop
/// ```
///
/// - Blocks are numbered in the order they start. Text pieces (and refusal pieces) go to a `text`
///   block (`text_delta`), reasoning pieces to a `thinking` block (`thinking_delta`, empty
///   `signature`), each tool call to its own `tool_use` block whose arguments come as
///   `input_json_delta` pieces. A piece of another kind, or a new tool call, closes the open block
///   first, so that blocks follow one another as in Anthropic's own streams.
/// - A piece for a tool call whose block is already closed (an upstream interleaving two calls) is
///   still sent to that call's block by its chat `index`: Anthropic's SDKs assemble blocks by
///   index, so the final message is whole.
/// - `message_delta` carries the `stop_reason` of the last finish reason seen (`tool_use` when a
///   tool was called, see ``MessagesResponseRenderer``) and the final usage; `message_stop` ends the
///   stream. After ``fail(_:into:)`` the stream ends with the `error` event and no `message_stop`,
///   which Anthropic's SDKs raise as an error.
/// - Empty pieces are skipped; calls after the stream ended write nothing.
public struct MessagesStreamRenderer: Sendable {
    private let messageID: String
    private let model: String
    private let estimatedInputTokens: Int
    private var phase = Phase.notStarted
    private var openBlock: OpenBlock?
    private var nextBlockIndex = 0
    /// The block index of each tool call, by its chat `index`.
    private var toolBlocks: [Int: Int] = [:]
    private var finishReason: String?
    private var refused = false
    private var lastUsage: TokenUsage?

    private enum Phase {
        case notStarted, streaming, ended
    }

    /// The kinds of block whose pieces are text.
    private enum TextKind {
        case text, thinking
    }

    /// The block that is open, to which pieces of its kind go.
    private enum OpenBlock: Equatable {
        case text(index: Int)
        case thinking(index: Int)
        case toolUse(index: Int, chatIndex: Int)

        var index: Int {
            switch self {
            case .text(let index), .thinking(let index), .toolUse(let index, _): index
            }
        }
    }

    /// Creates a renderer for one stream.
    ///
    /// - Parameters:
    ///   - messageID: The message's id (`msg_…`; see ``MessagesResponseRenderer/messageID(fromChatID:)``).
    ///   - model: The model name the client sees.
    ///   - estimatedInputTokens: The input tokens `message_start` reports, before the upstream has
    ///     counted them; `message_delta` reports the real count.
    public init(messageID: String, model: String, estimatedInputTokens: Int) {
        self.messageID = messageID
        self.model = model
        self.estimatedInputTokens = max(0, estimatedInputTokens)
    }

    /// Writes `message_start` (the message shell with no content, the estimated input tokens and no
    /// output tokens) and a `ping`. Writes nothing when already started.
    public mutating func start(into buffer: inout ByteBuffer) {
        guard phase == .notStarted else { return }
        phase = .streaming
        let shell: JSONValue = [
            "id": .string(messageID),
            "type": "message",
            "role": "assistant",
            "model": .string(model),
            "content": [],
            "stop_reason": nil,
            "stop_sequence": nil,
            "usage": [
                "input_tokens": .integer(estimatedInputTokens),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 0,
            ],
        ]
        Self.writeEvent("message_start", ["type": "message_start", "message": shell], into: &buffer)
        Self.writeEvent("ping", ["type": "ping"], into: &buffer)
    }

    /// Writes the events for one chunk's delta: reasoning, then text and refusal, then tool-call
    /// pieces. Starts the stream first when ``start(into:)`` was not called.
    public mutating func render(_ delta: ChatDelta, into buffer: inout ByteBuffer) {
        guard phase != .ended else { return }
        start(into: &buffer)
        if let usage = delta.usage { lastUsage = usage }
        if let reason = delta.finishReason { finishReason = reason }
        if let reasoning = delta.reasoning, !reasoning.isEmpty {
            let index = blockIndex(for: .thinking, into: &buffer)
            Self.writeDelta(index: index, type: "thinking_delta", field: "thinking", piece: reasoning, into: &buffer)
        }
        if let text = delta.text, !text.isEmpty {
            let index = blockIndex(for: .text, into: &buffer)
            Self.writeDelta(index: index, type: "text_delta", field: "text", piece: text, into: &buffer)
        }
        if let refusal = delta.refusal, !refusal.isEmpty {
            refused = true
            let index = blockIndex(for: .text, into: &buffer)
            Self.writeDelta(index: index, type: "text_delta", field: "text", piece: refusal, into: &buffer)
        }
        for piece in delta.toolCalls {
            renderToolCall(piece, into: &buffer)
        }
    }

    /// Closes the open block and writes `message_delta` (the stop reason and the final usage) and
    /// `message_stop`. Writes nothing when the stream already ended.
    ///
    /// - Parameters:
    ///   - usage: The request's usage; nil to use the last usage a delta carried, and the estimate
    ///     with no output tokens when none did.
    ///   - costUSD: What the request cost, sent as `usage.cost_usd` when known.
    public mutating func finish(usage: TokenUsage?, costUSD: Double?, into buffer: inout ByteBuffer) {
        guard phase != .ended else { return }
        start(into: &buffer)
        closeOpenBlock(into: &buffer)
        phase = .ended
        let stopReason = MessagesStopReason.stopReason(finishReason: finishReason, calledTools: !toolBlocks.isEmpty, refused: refused)
        let counts = usage ?? lastUsage ?? TokenUsage(promptTokens: estimatedInputTokens, completionTokens: 0, isEstimated: true)
        let event: JSONValue = [
            "type": "message_delta",
            "delta": ["stop_reason": .string(stopReason), "stop_sequence": nil],
            "usage": counts.messagesUsage(costUSD: costUSD),
        ]
        Self.writeEvent("message_delta", event, into: &buffer)
        Self.writeEvent("message_stop", ["type": "message_stop"], into: &buffer)
    }

    /// Writes an `error` event with Anthropic's envelope for `error` and ends the stream: no block
    /// is closed and no `message_stop` follows, so clients see a failed stream, not a short answer.
    /// Writes nothing when the stream already ended.
    public mutating func fail(_ error: GatewayError, into buffer: inout ByteBuffer) {
        guard phase != .ended else { return }
        phase = .ended
        openBlock = nil
        buffer.writeStaticString("event: error\ndata: ")
        buffer.writeImmutableBuffer(AnthropicErrorEnvelope.body(for: error))
        buffer.writeStaticString("\n\n")
    }

    // MARK: Blocks

    private mutating func renderToolCall(_ piece: ChatDelta.ToolCallPiece, into buffer: inout ByteBuffer) {
        let index: Int
        if let known = toolBlocks[piece.index] {
            index = known
        } else {
            closeOpenBlock(into: &buffer)
            index = nextBlockIndex
            nextBlockIndex += 1
            toolBlocks[piece.index] = index
            openBlock = .toolUse(index: index, chatIndex: piece.index)
            let id = piece.id.flatMap { $0.isEmpty ? nil : $0 } ?? "toolu_\(messageID.dropFirst(4))_\(piece.index)"
            let block: JSONValue = [
                "type": "tool_use", "id": .string(id), "name": .string(piece.name ?? ""), "input": .object(JSONObject()),
            ]
            Self.writeEvent(
                "content_block_start",
                ["type": "content_block_start", "index": .integer(index), "content_block": block],
                into: &buffer
            )
        }
        if let arguments = piece.arguments, !arguments.isEmpty {
            Self.writeDelta(index: index, type: "input_json_delta", field: "partial_json", piece: arguments, into: &buffer)
        }
    }

    /// The index of the open block when it is of `kind`; otherwise closes it, starts a block of
    /// `kind`, and returns the new block's index.
    private mutating func blockIndex(for kind: TextKind, into buffer: inout ByteBuffer) -> Int {
        switch (openBlock, kind) {
        case (.text(let index)?, .text), (.thinking(let index)?, .thinking):
            return index
        default:
            break
        }
        closeOpenBlock(into: &buffer)
        let index = nextBlockIndex
        nextBlockIndex += 1
        let shell: JSONValue
        switch kind {
        case .text:
            openBlock = .text(index: index)
            shell = ["type": "text", "text": ""]
        case .thinking:
            openBlock = .thinking(index: index)
            shell = ["type": "thinking", "thinking": "", "signature": ""]
        }
        Self.writeEvent(
            "content_block_start",
            ["type": "content_block_start", "index": .integer(index), "content_block": shell],
            into: &buffer
        )
        return index
    }

    private mutating func closeOpenBlock(into buffer: inout ByteBuffer) {
        guard let openBlock else { return }
        self.openBlock = nil
        Self.writeEvent("content_block_stop", ["type": "content_block_stop", "index": .integer(openBlock.index)], into: &buffer)
    }

    // MARK: Writing

    private static func writeEvent(_ name: StaticString, _ data: JSONValue, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("event: ")
        buffer.writeStaticString(name)
        buffer.writeStaticString("\ndata: ")
        data.write(into: &buffer)
        buffer.writeStaticString("\n\n")
    }

    /// Writes a `content_block_delta` straight into `buffer`: deltas are most of a stream, so they
    /// skip building a ``JSONValue``.
    private static func writeDelta(index: Int, type: StaticString, field: StaticString, piece: String, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":")
        buffer.writeString(String(index))
        buffer.writeStaticString(",\"delta\":{\"type\":\"")
        buffer.writeStaticString(type)
        buffer.writeStaticString("\",\"")
        buffer.writeStaticString(field)
        buffer.writeStaticString("\":")
        JSONWriter.writeString(piece, into: &buffer)
        buffer.writeStaticString("}}\n\n")
    }
}
