import Foundation
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
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
    let providerName: String
    /// Whether the client asked for a usage chunk.
    let includeUsage: Bool
    /// How many choices the client asked for (`n`).
    let choiceCount: Int
    /// Translates tool calls and remembers their signatures.
    let responses: GeminiResponseTranslator

    /// `chatcmpl-` and the stream's `responseId`, as a whole answer's id is made; set by the first event.
    private var id = ""
    private let created = Int(Date().timeIntervalSince1970)
    private var started: Set<Int> = []
    private var finished: Set<Int> = []
    private var toolCallCounts: [Int: Int] = [:]
    /// The latest `usageMetadata`, as the upstream wrote it: read once, at the end.
    private var usage: ByteBuffer?

    /// Creates a translator for one stream.
    init(providerName: String, includeUsage: Bool, choiceCount: Int, responses: GeminiResponseTranslator) {
        self.providerName = providerName
        self.includeUsage = includeUsage
        self.choiceCount = max(1, choiceCount)
        self.responses = responses
    }

    mutating func translate(_ event: SSEEvent) throws -> [ChatStreamEvent] {
        if event.data.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return [] }
        if id.isEmpty {
            // Every event carries the `responseId`; the first one's names the answer.
            id = GeminiResponseTranslator.completionID(for: (try? JSONValue.parse(ByteBuffer(bytes: event.data))) ?? .null)
        }
        // Most events carry a piece of the first candidate's text: read those from their bytes, with no tree.
        if let (text, usageMetadata) = Self.textOnly(in: event.data) {
            if let usageMetadata { usage = usageMetadata }
            var events: [ChatStreamEvent] = []
            startIfNeeded(0, into: &events)
            if !text.isEmpty {
                events.append(.chunk(OpenAIChunk.content(text, id: id, created: created, model: responses.model)))
            }
            return events
        }
        guard var response = try? JSONValue.parse(ByteBuffer(bytes: event.data)) else {
            throw ProviderError(kind: .protocolViolation, message: "\(providerName) sent a stream event that is not JSON")
        }
        if case .array(let elements) = response, elements.count == 1 { response = elements[0] }
        if let error = response["error"], error.objectValue != nil {
            throw GeminiErrorMapping.error(status: GeminiErrorMapping.status(of: error), googleError: error, provider: providerName)
        }
        if let metadata = response["usageMetadata"], metadata.objectValue != nil { usage = metadata.buffer }
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

    mutating func finish() throws -> [ChatStreamEvent] {
        // Without a finishReason for every candidate that spoke, the body ended early: no `.done`.
        guard !finished.isEmpty, started.isSubset(of: finished) else { return [] }
        var events: [ChatStreamEvent] = []
        if includeUsage, let usage, let metadata = try? JSONValue.parse(usage) {
            let usageChunk = OpenAIChunk.make(
                id: id,
                created: created,
                model: responses.model,
                choices: [],
                usage: GeminiResponseTranslator.usage(from: metadata)
            )
            events.append(.chunk(usageChunk.buffer))
        }
        events.append(.done)
        return events
    }

    /// The text of an event whose only candidate is the first, still running, with text parts and
    /// nothing else (no thought, tool call or finish reason), and its `usageMetadata` bytes if it
    /// has one. Nil for any other event, or one that is not valid JSON (the tree path reads those).
    static func textOnly(in data: [UInt8]) -> (text: String, usageMetadata: ByteBuffer?)? {
        data.withUnsafeBytes { bytes -> (String, ByteBuffer?)? in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes), !members.hasDuplicateKeys else { return nil }
            var text: String?
            var usage: ByteBuffer?
            for member in members {
                switch member.key {
                case "error", "promptFeedback":
                    return nil
                case "usageMetadata":
                    guard member.kind == .object else { return nil }
                    usage = ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[member.value]))
                case "candidates":
                    guard member.kind == .array, let candidates = try? JSONScanner.elements(ofArrayAt: member.value, in: bytes),
                        candidates.count == 1, candidates[0].kind == .object,
                        let candidate = Self.runningText(ofCandidateAt: candidates[0].range, in: bytes)
                    else { return nil }
                    text = candidate
                default:
                    continue
                }
            }
            guard let text else { return nil }
            return (text, usage)
        }
    }

    /// The text of the candidate at `range` when it is the first (no `index`, or 0), has no finish
    /// reason, and its parts are all plain text.
    private static func runningText(ofCandidateAt range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> String? {
        guard let fields = try? JSONScanner.members(ofObjectAt: range, in: bytes), !fields.hasDuplicateKeys else { return nil }
        var text: String?
        for field in fields {
            switch field.key {
            case "finishReason", "finishMessage":
                guard field.kind == .null else { return nil }
            case "index":
                guard field.kind == .number, JSONScanner.integer(at: field.value, in: bytes) == 0 else { return nil }
            case "content":
                guard field.kind == .object, let content = try? JSONScanner.members(ofObjectAt: field.value, in: bytes),
                    !content.hasDuplicateKeys, let parts = content.first(where: { $0.key == "parts" }), parts.kind == .array,
                    let elements = try? JSONScanner.elements(ofArrayAt: parts.value, in: bytes)
                else { return nil }
                var joined = ""
                for element in elements {
                    guard element.kind == .object, let part = try? JSONScanner.members(ofObjectAt: element.range, in: bytes),
                        part.count == 1, part[0].key == "text", part[0].kind == .string
                    else { return nil }
                    joined += JSONScanner.decodeString(at: part[0].value, in: bytes)
                }
                text = joined
            default:
                continue
            }
        }
        return text
    }

    private func chunk(_ choices: [JSONValue]) -> ChatStreamEvent {
        .chunk(OpenAIChunk.make(id: id, created: created, model: responses.model, choices: choices).buffer)
    }
}
