import Foundation
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore
import NIOCore

/// Turns Gemini's `streamGenerateContent?alt=sse` events into OpenAI `chat.completion.chunk`s.
///
/// Each `data:` payload is a `GenerateContentResponse` carrying only the new parts. Per candidate the
/// translator emits a role chunk first, then text deltas, whole tool calls (Gemini never splits
/// their arguments) numbered from 0, and a finish chunk when the candidate reports its
/// `finishReason`. Gemini has no `[DONE]`: the answer is complete when every candidate that spoke
/// has finished and the body ends; only then come the usage chunk (if asked for, from the last
/// running `usageMetadata`) and ``ChatStreamEvent/done``. A body that ends earlier was cut.
struct GeminiStreamTranslator: StreamTranslator {
    /// The provider's name, for error messages.
    package let providerName: String
    /// Whether the client asked for a usage chunk.
    package let includeUsage: Bool
    /// How many choices the client asked for (`n`).
    package let choiceCount: Int
    /// Translates tool calls and remembers their signatures.
    let responses: GeminiResponseTranslator

    private let id = GeminiResponseTranslator.randomID(prefix: "chatcmpl-")
    private let created = Int(Date().timeIntervalSince1970)
    private var started: Set<Int> = []
    private var finished: Set<Int> = []
    private var toolCallCounts: [Int: Int] = [:]
    private var usage: JSONValue?

    /// Creates a translator for one stream.
    init(providerName: String, includeUsage: Bool, choiceCount: Int, responses: GeminiResponseTranslator) {
        self.providerName = providerName
        self.includeUsage = includeUsage
        self.choiceCount = max(1, choiceCount)
        self.responses = responses
    }

    mutating func translate(_ event: SSEEvent) throws -> [ChatStreamEvent] {
        if event.data.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return [] }
        guard var response = try? JSONValue.parse(ByteBuffer(bytes: event.data)) else {
            throw ProviderError(kind: .protocolViolation, message: "\(providerName) sent a stream event that is not JSON")
        }
        if case .array(let elements) = response, elements.count == 1 { response = elements[0] }
        if let error = response["error"], error.objectValue != nil {
            throw GeminiErrorMapping.error(status: GeminiErrorMapping.status(of: error), googleError: error, provider: providerName)
        }
        if let metadata = response["usageMetadata"], metadata.objectValue != nil { usage = metadata }
        var events: [ChatStreamEvent] = []
        if let candidates = response["candidates"]?.arrayValue, !candidates.isEmpty {
            for (position, candidate) in candidates.enumerated() {
                try translate(candidate, index: candidate["index"]?.intValue ?? position, into: &events)
            }
        } else if response["promptFeedback"]?["blockReason"]?.stringValue != nil {
            for index in 0..<choiceCount where !finished.contains(index) {
                startIfNeeded(index, into: &events)
                events.append(chunk([["index": .integer(index), "delta": .object(JSONObject()), "finish_reason": "content_filter"]]))
                finished.insert(index)
            }
        }
        return events
    }

    private mutating func translate(_ candidate: JSONValue, index: Int, into events: inout [ChatStreamEvent]) throws {
        startIfNeeded(index, into: &events)
        let parts = candidate["content"]?["parts"]?.arrayValue ?? []
        let text = GeminiResponseTranslator.text(of: parts)
        if !text.isEmpty {
            events.append(chunk([["index": .integer(index), "delta": ["content": .string(text)], "finish_reason": nil]]))
        }
        let calls = responses.toolCalls(in: parts)
        if !calls.isEmpty {
            var deltas: [JSONValue] = []
            var next = toolCallCounts[index] ?? 0
            for call in calls {
                var delta: JSONValue = ["index": .integer(next)]
                for member in call.objectValue?.members ?? [] { delta[member.key] = member.value }
                deltas.append(delta)
                next += 1
            }
            toolCallCounts[index] = next
            events.append(chunk([["index": .integer(index), "delta": ["tool_calls": .array(deltas)], "finish_reason": nil]]))
        }
        let reason = try GeminiResponseTranslator.finishReason(
            candidate["finishReason"]?.stringValue,
            hasToolCalls: (toolCallCounts[index] ?? 0) > 0,
            finishMessage: candidate["finishMessage"]?.stringValue
        )
        if let reason, !finished.contains(index) {
            events.append(chunk([["index": .integer(index), "delta": .object(JSONObject()), "finish_reason": .string(reason)]]))
            finished.insert(index)
        }
    }

    private mutating func startIfNeeded(_ index: Int, into events: inout [ChatStreamEvent]) {
        guard started.insert(index).inserted else { return }
        events.append(chunk([["index": .integer(index), "delta": ["role": "assistant", "content": ""], "finish_reason": nil]]))
    }

    package mutating func finish() throws -> [ChatStreamEvent] {
        // Without a finishReason for every candidate that spoke, the body ended early: no `.done`.
        guard !finished.isEmpty, started.isSubset(of: finished) else { return [] }
        var events: [ChatStreamEvent] = []
        if includeUsage, let usage {
            let usageChunk = OpenAIChunk.make(
                id: id,
                created: created,
                model: responses.model,
                choices: [],
                usage: GeminiResponseTranslator.usage(from: usage)
            )
            events.append(.chunk(usageChunk.buffer))
        }
        events.append(.done)
        return events
    }

    private func chunk(_ choices: [JSONValue]) -> ChatStreamEvent {
        .chunk(OpenAIChunk.make(id: id, created: created, model: responses.model, choices: choices).buffer)
    }
}
