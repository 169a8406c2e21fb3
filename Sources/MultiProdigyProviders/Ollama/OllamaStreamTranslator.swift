import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore

/// Turns the NDJSON lines of Ollama's streaming `/api/chat` into OpenAI `chat.completion.chunk`s.
///
/// Lines with `"done": false` carry pieces of `message.content` (and whole tool calls); the line with
/// `"done": true` carries `done_reason` and the token counts, and is the only sign the answer is
/// complete: it yields the finish chunk, the usage chunk when the client asked for it, and
/// ``ChatStreamEvent/done``. A body that ends before it yields no `done`, so the gateway reports the
/// stream as cut. A line `{"error": "…"}` throws. A line that is not JSON is skipped.
struct OllamaStreamTranslator: StreamTranslator {
    private let id: String
    private let created: Int
    private let model: String
    private let includeUsage: Bool
    private var sentRole = false
    private var toolCallCount = 0
    private var finished = false
    /// How many lines were not JSON objects and were skipped.
    private(set) var skippedLines = 0

    /// Creates a translator for one stream.
    ///
    /// - Parameters:
    ///   - id: The id every chunk carries (`chatcmpl-…`).
    ///   - created: Unix seconds, on every chunk.
    ///   - model: The model name on every chunk.
    ///   - includeUsage: Whether to emit the usage chunk (`stream_options.include_usage`).
    init(id: String, created: Int, model: String, includeUsage: Bool) {
        self.id = id
        self.created = created
        self.model = model
        self.includeUsage = includeUsage
    }

    mutating func translate(_ line: ByteBuffer) throws -> [ChatStreamEvent] {
        guard !finished else { return [] }
        // Most lines carry a piece of text and nothing else: read those from their bytes, with no tree.
        if let text = Self.textOnly(in: line) {
            var events: [ChatStreamEvent] = []
            if !sentRole {
                sentRole = true
                events.append(chunk(delta: ["role": "assistant", "content": ""]))
            }
            if !text.isEmpty {
                events.append(.chunk(OpenAIChunk.content(text, id: id, created: created, model: model, withNullLogprobs: true)))
            }
            return events
        }
        guard let json = try? JSONValue.parse(line), case .object = json else {
            // A garbled line loses at most one piece of text; the `done` line still decides
            // whether the answer is complete.
            skippedLines += 1
            return []
        }
        if let error = json["error"], !error.isNull {
            throw Self.streamError(error)
        }
        var events: [ChatStreamEvent] = []
        if !sentRole {
            sentRole = true
            events.append(chunk(delta: ["role": "assistant", "content": ""]))
        }
        let message = json["message"]
        if let content = message?["content"]?.stringValue, !content.isEmpty {
            events.append(chunk(delta: ["content": .string(content)]))
        }
        let calls = OllamaResponseTranslator.openAIToolCalls(from: message?["tool_calls"], completionID: id, firstIndex: toolCallCount)
        for call in calls {
            // Ollama sends each call whole, so each becomes one complete delta.
            events.append(chunk(delta: ["tool_calls": [call.withIndex]]))
        }
        toolCallCount += calls.count
        guard json["done"]?.boolValue == true else { return events }
        finished = true
        let reason = OllamaResponseTranslator.finishReason(doneReason: json["done_reason"]?.stringValue, hasToolCalls: toolCallCount > 0)
        events.append(chunk(delta: [:], finishReason: reason))
        if includeUsage {
            events.append(
                .chunk(
                    OpenAIChunk.make(
                        id: id,
                        created: created,
                        model: model,
                        choices: [],
                        usage: OllamaResponseTranslator.usage(from: json)
                    ).buffer
                )
            )
        }
        events.append(.done)
        return events
    }

    mutating func finish() throws -> [ChatStreamEvent] { [] }

    /// The `message.content` of a line that carries nothing else the translation reads: no
    /// `error`, `"done": false`, a message without tool calls. Nil for any other line, or one that
    /// is not valid JSON (the tree path reads those).
    static func textOnly(in line: ByteBuffer) -> String? {
        line.withUnsafeReadableBytes { bytes -> String? in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes), !members.hasDuplicateKeys else { return nil }
            var text: String?
            var notDone = false
            for member in members {
                switch member.key {
                case "error":
                    guard member.kind == .null else { return nil }
                case "done":
                    guard member.kind == .bool, bytes[member.value.lowerBound] == UInt8(ascii: "f") else { return nil }
                    notDone = true
                case "message":
                    guard member.kind == .object, let fields = try? JSONScanner.members(ofObjectAt: member.value, in: bytes),
                        !fields.hasDuplicateKeys
                    else { return nil }
                    for field in fields {
                        switch field.key {
                        case "content":
                            guard field.kind == .string else { return nil }
                            text = JSONScanner.decodeString(at: field.value, in: bytes)
                        case "tool_calls":
                            guard field.kind == .null else { return nil }
                        default:
                            continue
                        }
                    }
                default:
                    continue
                }
            }
            return notDone ? text : nil
        }
    }

    private func chunk(delta: JSONValue, finishReason: String? = nil) -> ChatStreamEvent {
        let choice: JSONValue = [
            "index": 0,
            "delta": delta,
            "logprobs": nil,
            "finish_reason": finishReason.map { .string($0) } ?? .null,
        ]
        return .chunk(OpenAIChunk.make(id: id, created: created, model: model, choices: [choice]).buffer)
    }

    /// The error for a `{"error": …}` line: the upstream's fault, so another target may be tried
    /// if nothing has reached the client yet.
    static func streamError(_ error: JSONValue) -> ProviderError {
        let text = error.stringValue ?? error["message"]?.stringValue ?? error.text
        return ProviderError(
            kind: .server,
            message: "Ollama reported an error mid-stream: \(text)",
            upstreamError: GatewayError(status: .badGateway, message: text, type: "server_error")
        )
    }
}
