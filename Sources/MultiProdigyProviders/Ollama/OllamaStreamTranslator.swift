import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
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
    package private(set) var skippedLines = 0

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
        let calls = OllamaResponseTranslation.openAIToolCalls(from: message?["tool_calls"], completionID: id, firstIndex: toolCallCount)
        for call in calls {
            // Ollama sends each call whole, so each becomes one complete delta.
            events.append(chunk(delta: ["tool_calls": [call.withIndex]]))
        }
        toolCallCount += calls.count
        guard json["done"]?.boolValue == true else { return events }
        finished = true
        let reason = OllamaResponseTranslation.finishReason(doneReason: json["done_reason"]?.stringValue, hasToolCalls: toolCallCount > 0)
        events.append(chunk(delta: [:], finishReason: reason))
        if includeUsage {
            events.append(
                .chunk(
                    OpenAIChunk.make(
                        id: id,
                        created: created,
                        model: model,
                        choices: [],
                        usage: OllamaResponseTranslation.usage(from: json)
                    ).buffer
                )
            )
        }
        events.append(.done)
        return events
    }

    package mutating func finish() throws -> [ChatStreamEvent] { [] }

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
