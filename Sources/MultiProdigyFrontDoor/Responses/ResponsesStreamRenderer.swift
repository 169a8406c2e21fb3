import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// Turns the gateway's chat stream into OpenAI Responses stream events, one chunk at a time.
///
/// Each event is written as `event: <type>\ndata: <json>\n\n`, its JSON repeating the type and
/// carrying a `sequence_number` that starts at 0 and grows by one. The stream opens with
/// `response.created` and `response.in_progress`; content opens an output item
/// (`response.output_item.added`) and streams into it:
///
/// - reasoning: a `reasoning` item with one `reasoning_text` part (`response.content_part.added`,
///   `response.reasoning_text.delta`);
/// - text and refusals: an assistant `message` item with an `output_text` or `refusal` part
///   (`response.output_text.delta`, `response.refusal.delta`);
/// - tool calls: a `function_call` item per call (`response.function_call_arguments.delta`).
///
/// Only one item is open at a time: when the kind of content changes (or a new tool call starts)
/// the open item is closed first (`….done`, `response.content_part.done`,
/// `response.output_item.done`). ``finish(usage:costUSD:into:)`` closes what is open and ends with
/// `response.completed`, or `response.incomplete` when the answer stopped at its length limit or a
/// content filter; ``fail(_:into:)`` ends with `response.failed`. Both return the final response
/// object for storage; after either, every call writes nothing.
///
/// Nothing is buffered but the text and arguments of the items, which the `.done` events and the
/// final object repeat. Item ids come from ``ResponsesItemID``, as for ``ResponsesRenderer``.
public struct ResponsesStreamRenderer: Sendable {
    private let request: ResponsesRequest
    private let id: String
    private let createdAt: Int
    private let model: String
    private var sequenceNumber = 0
    private var phase = Phase.notStarted
    /// The items already closed, in their final form.
    private var output: [JSONValue] = []
    /// The item being streamed into.
    private var open: OpenItem?
    /// For each tool call seen (by its chat `index`), its place in `output` once closed.
    private var closedCalls: [Int: Int] = [:]
    /// The finish reason, once a chunk said it.
    private var finishReason: String?
    /// The usage, once a chunk reported it.
    private var reportedUsage: TokenUsage?

    /// Where the stream is.
    private enum Phase: Sendable {
        case notStarted
        case streaming
        case ended(JSONValue)
    }

    /// The item being streamed into.
    private enum OpenItem: Sendable {
        case reasoning(outputIndex: Int, id: String, text: String)
        case message(MessageItem)
        case functionCall(outputIndex: Int, id: String, chatIndex: Int, callID: String, name: String, arguments: String)
    }

    /// An assistant message being streamed: its closed content parts and the one being written.
    private struct MessageItem: Sendable {
        var outputIndex: Int
        var id: String
        var parts: [JSONValue] = []
        /// Whether the part being written is a refusal (else text); nil when none is open.
        var partIsRefusal: Bool?
        var partText = ""
    }

    /// Creates a renderer for the stream of response `id`.
    ///
    /// - Parameters:
    ///   - request: The request, whose settings the response objects repeat.
    ///   - id: The response's id (`resp_…`).
    ///   - createdAt: When the response was created, in seconds since 1970.
    ///   - model: The declared name of the model answering, echoed as `model`.
    public init(request: ResponsesRequest, id: String, createdAt: Int, model: String) {
        self.request = request
        self.id = id
        self.createdAt = createdAt
        self.model = model
    }

    /// Writes `response.created` and `response.in_progress` (a response `in_progress` with no
    /// output yet). Called implicitly by the other methods when not called first.
    public mutating func start(into buffer: inout ByteBuffer) {
        guard case .notStarted = phase else { return }
        phase = .streaming
        let response = responseObject(status: "in_progress", output: [], usage: .null)
        emit("response.created", ["response": response], into: &buffer)
        emit("response.in_progress", ["response": response], into: &buffer)
    }

    /// Writes the events for one chunk's content: its reasoning, then text, then refusal, then
    /// tool-call pieces.
    public mutating func render(_ delta: ChatDelta, into buffer: inout ByteBuffer) {
        start(into: &buffer)
        guard case .streaming = phase else { return }
        if let usage = delta.usage { reportedUsage = usage }
        if let reason = delta.finishReason { finishReason = reason }
        if let reasoning = delta.reasoning, !reasoning.isEmpty { appendReasoning(reasoning, into: &buffer) }
        if let text = delta.text, !text.isEmpty { appendMessage(text, isRefusal: false, into: &buffer) }
        if let refusal = delta.refusal, !refusal.isEmpty { appendMessage(refusal, isRefusal: true, into: &buffer) }
        for piece in delta.toolCalls { appendToolCall(piece, into: &buffer) }
    }

    /// Closes the open item and writes `response.completed` (or `response.incomplete` when the
    /// finish reason was `length` or `content_filter`) with the whole response.
    ///
    /// - Parameters:
    ///   - usage: The answer's usage; when nil, the usage a chunk reported, if any.
    ///   - costUSD: What the answer cost, shown as `usage.cost_usd`.
    /// - Returns: The final response object, to store; after an earlier end, that end's object.
    public mutating func finish(usage: TokenUsage?, costUSD: Double?, into buffer: inout ByteBuffer) -> JSONValue {
        start(into: &buffer)
        if case .ended(let response) = phase { return response }
        let incompleteReason = ResponsesRenderer.incompleteReason(finishReason: finishReason)
        closeOpenItem(status: incompleteReason == nil ? "completed" : "incomplete", into: &buffer)
        let response = responseObject(
            status: incompleteReason == nil ? "completed" : "incomplete",
            incompleteReason: incompleteReason,
            output: output,
            usage: ResponsesRenderer.usage(usage ?? reportedUsage, costUSD: costUSD)
        )
        emit(incompleteReason == nil ? "response.completed" : "response.incomplete", ["response": response], into: &buffer)
        phase = .ended(response)
        return response
    }

    /// Writes `response.failed`: the response `failed`, with `error` {code, message} and the output
    /// streamed so far (the open item `incomplete`, not closed by events).
    ///
    /// - Returns: The failed response object, to store; after an earlier end, that end's object.
    public mutating func fail(_ error: GatewayError, into buffer: inout ByteBuffer) -> JSONValue {
        start(into: &buffer)
        if case .ended(let response) = phase { return response }
        var items = output
        if let open { items.append(item(for: open, status: "incomplete")) }
        self.open = nil
        let response = responseObject(
            status: "failed",
            error: ResponsesRenderer.error(error),
            output: items,
            usage: ResponsesRenderer.usage(reportedUsage, costUSD: nil)
        )
        emit("response.failed", ["response": response], into: &buffer)
        phase = .ended(response)
        return response
    }

    // MARK: Items

    private mutating func appendReasoning(_ piece: String, into buffer: inout ByteBuffer) {
        if case .reasoning(let index, let itemID, let text) = open {
            open = .reasoning(outputIndex: index, id: itemID, text: text + piece)
            emit("response.reasoning_text.delta", reasoningDelta(itemID, index, piece), into: &buffer)
            return
        }
        closeOpenItem(status: "completed", into: &buffer)
        let index = output.count
        let itemID = ResponsesItemID.output(prefix: ResponsesItemID.reasoning, responseID: id, index: index)
        let added: JSONValue = ["id": .string(itemID), "type": "reasoning", "status": "in_progress", "summary": [], "content": []]
        emit("response.output_item.added", ["output_index": .integer(index), "item": added], into: &buffer)
        emit(
            "response.content_part.added",
            ["item_id": .string(itemID), "output_index": .integer(index), "content_index": 0, "part": ResponsesRenderer.reasoningText("")],
            into: &buffer
        )
        open = .reasoning(outputIndex: index, id: itemID, text: piece)
        emit("response.reasoning_text.delta", reasoningDelta(itemID, index, piece), into: &buffer)
    }

    private func reasoningDelta(_ itemID: String, _ index: Int, _ piece: String) -> JSONValue {
        ["item_id": .string(itemID), "output_index": .integer(index), "content_index": 0, "delta": .string(piece)]
    }

    private mutating func appendMessage(_ piece: String, isRefusal: Bool, into buffer: inout ByteBuffer) {
        var message: MessageItem
        if case .message(let current) = open {
            message = current
        } else {
            closeOpenItem(status: "completed", into: &buffer)
            message = MessageItem(
                outputIndex: output.count,
                id: ResponsesItemID.output(prefix: ResponsesItemID.message, responseID: id, index: output.count)
            )
            let added = ResponsesRenderer.messageItem(id: message.id, status: "in_progress", content: [])
            emit("response.output_item.added", ["output_index": .integer(message.outputIndex), "item": added], into: &buffer)
        }
        if message.partIsRefusal != isRefusal {
            closePart(of: &message, into: &buffer)
            message.partIsRefusal = isRefusal
            emit(
                "response.content_part.added",
                [
                    "item_id": .string(message.id), "output_index": .integer(message.outputIndex),
                    "content_index": .integer(message.parts.count),
                    "part": isRefusal ? ResponsesRenderer.refusalPart("") : ResponsesRenderer.outputText(""),
                ],
                into: &buffer
            )
        }
        message.partText += piece
        var event: JSONValue = [
            "item_id": .string(message.id), "output_index": .integer(message.outputIndex),
            "content_index": .integer(message.parts.count), "delta": .string(piece),
        ]
        if !isRefusal { event["logprobs"] = [] }
        emit(isRefusal ? "response.refusal.delta" : "response.output_text.delta", event, into: &buffer)
        open = .message(message)
    }

    /// Closes the message's open content part, if any.
    private mutating func closePart(of message: inout MessageItem, into buffer: inout ByteBuffer) {
        guard let isRefusal = message.partIsRefusal else { return }
        let place: JSONValue = [
            "item_id": .string(message.id), "output_index": .integer(message.outputIndex), "content_index": .integer(message.parts.count),
        ]
        var done = place
        if isRefusal {
            done["refusal"] = .string(message.partText)
        } else {
            done["text"] = .string(message.partText)
            done["logprobs"] = []
        }
        emit(isRefusal ? "response.refusal.done" : "response.output_text.done", done, into: &buffer)
        let part = isRefusal ? ResponsesRenderer.refusalPart(message.partText) : ResponsesRenderer.outputText(message.partText)
        var partDone = place
        partDone["part"] = part
        emit("response.content_part.done", partDone, into: &buffer)
        message.parts.append(part)
        message.partIsRefusal = nil
        message.partText = ""
    }

    private mutating func appendToolCall(_ piece: ChatDelta.ToolCallPiece, into buffer: inout ByteBuffer) {
        let arguments = piece.arguments ?? ""
        if case .functionCall(let index, let itemID, let chatIndex, let callID, let name, let sofar) = open, chatIndex == piece.index {
            open = .functionCall(
                outputIndex: index,
                id: itemID,
                chatIndex: chatIndex,
                callID: callID,
                name: name,
                arguments: sofar + arguments
            )
            if !arguments.isEmpty {
                emit("response.function_call_arguments.delta", argumentsDelta(itemID, index, arguments), into: &buffer)
            }
            return
        }
        if let index = closedCalls[piece.index] {
            // A piece for a call already closed (an upstream interleaving calls): the final object
            // gets it, and a delta for the call's item keeps clients that concatenate deltas whole.
            guard !arguments.isEmpty, let itemID = output[index]["id"]?.stringValue else { return }
            output[index]["arguments"] = .string((output[index]["arguments"]?.stringValue ?? "") + arguments)
            emit("response.function_call_arguments.delta", argumentsDelta(itemID, index, arguments), into: &buffer)
            return
        }
        closeOpenItem(status: "completed", into: &buffer)
        let index = output.count
        let itemID = ResponsesItemID.output(prefix: ResponsesItemID.functionCall, responseID: id, index: index)
        let callID = piece.id ?? "call_\(id)_\(piece.index)"
        let name = piece.name ?? ""
        let added = ResponsesRenderer.functionCallItem(id: itemID, status: "in_progress", callID: callID, name: name, arguments: "")
        emit("response.output_item.added", ["output_index": .integer(index), "item": added], into: &buffer)
        open = .functionCall(outputIndex: index, id: itemID, chatIndex: piece.index, callID: callID, name: name, arguments: arguments)
        if !arguments.isEmpty { emit("response.function_call_arguments.delta", argumentsDelta(itemID, index, arguments), into: &buffer) }
    }

    private func argumentsDelta(_ itemID: String, _ index: Int, _ piece: String) -> JSONValue {
        ["item_id": .string(itemID), "output_index": .integer(index), "delta": .string(piece)]
    }

    /// Writes the events that close the open item, and keeps the item, with `status`, for the output.
    private mutating func closeOpenItem(status: String, into buffer: inout ByteBuffer) {
        guard let item = open else { return }
        open = nil
        var finalItem: JSONValue
        let index: Int
        switch item {
        case .reasoning(let outputIndex, let itemID, let text):
            index = outputIndex
            let place: JSONValue = ["item_id": .string(itemID), "output_index": .integer(outputIndex), "content_index": 0]
            var done = place
            done["text"] = .string(text)
            emit("response.reasoning_text.done", done, into: &buffer)
            var partDone = place
            partDone["part"] = ResponsesRenderer.reasoningText(text)
            emit("response.content_part.done", partDone, into: &buffer)
            finalItem = self.item(for: item, status: status)
        case .message(var message):
            index = message.outputIndex
            closePart(of: &message, into: &buffer)
            finalItem = self.item(for: .message(message), status: status)
        case .functionCall(let outputIndex, let itemID, let chatIndex, _, let name, let arguments):
            index = outputIndex
            emit(
                "response.function_call_arguments.done",
                [
                    "item_id": .string(itemID), "output_index": .integer(outputIndex), "name": .string(name),
                    "arguments": .string(arguments),
                ],
                into: &buffer
            )
            closedCalls[chatIndex] = outputIndex
            finalItem = self.item(for: item, status: status)
        }
        finalItem["status"] = .string(status)
        emit("response.output_item.done", ["output_index": .integer(index), "item": finalItem], into: &buffer)
        output.append(finalItem)
    }

    /// The open item as the output holds it, with what has streamed so far.
    private func item(for open: OpenItem, status: String) -> JSONValue {
        switch open {
        case .reasoning(_, let itemID, let text):
            return ResponsesRenderer.reasoningItem(id: itemID, text: text, status: status)
        case .message(let message):
            var parts = message.parts
            if let isRefusal = message.partIsRefusal {
                parts.append(isRefusal ? ResponsesRenderer.refusalPart(message.partText) : ResponsesRenderer.outputText(message.partText))
            }
            return ResponsesRenderer.messageItem(id: message.id, status: status, content: parts)
        case .functionCall(_, let itemID, _, let callID, let name, let arguments):
            return ResponsesRenderer.functionCallItem(id: itemID, status: status, callID: callID, name: name, arguments: arguments)
        }
    }

    // MARK: Writing

    private func responseObject(
        status: String,
        error: JSONValue = .null,
        incompleteReason: String? = nil,
        output: [JSONValue],
        usage: JSONValue
    ) -> JSONValue {
        ResponsesRenderer.response(
            id: id,
            createdAt: createdAt,
            status: status,
            error: error,
            incompleteReason: incompleteReason,
            model: model,
            output: output,
            usage: usage,
            request: request
        )
    }

    /// Writes one event: `type` first, then `fields`, then the next sequence number.
    private mutating func emit(_ type: String, _ fields: JSONValue, into buffer: inout ByteBuffer) {
        var event: JSONValue = ["type": .string(type)]
        for member in fields.objectValue?.members ?? [] { event[member.key] = member.value }
        event["sequence_number"] = .integer(sequenceNumber)
        sequenceNumber += 1
        buffer.writeStaticString("event: ")
        buffer.writeString(type)
        buffer.writeStaticString("\ndata: ")
        event.write(into: &buffer)
        buffer.writeStaticString("\n\n")
    }
}
