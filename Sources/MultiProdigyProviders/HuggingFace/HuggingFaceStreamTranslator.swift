import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore

/// Reads TGI's (or the router's) SSE chunks: OpenAI's shape, with TGI's empty ids and finish
/// reasons made OpenAI's, and `tool_calls` reported when the answer called a tool.
struct HuggingFaceStreamTranslator: StreamTranslator {
    private let id = HuggingFaceResponseTranslator.newID()
    private var choicesWithToolCalls: Set<Int> = []

    mutating func translate(_ event: SSEEvent) throws -> [ChatStreamEvent] {
        if event.isDoneSentinel { return [.done] }
        if event.data.isEmpty { return [] }
        let raw = ByteBuffer(bytes: event.data)
        // Most chunks need no change: those go through as they are, read but never rebuilt.
        if Self.needsNoChange(raw) { return [.chunk(raw)] }
        // A chunk that is not a JSON object goes through as is: the relay counts and skips it.
        guard var chunk = try? JSONValue.parse(raw), chunk.objectValue != nil, chunk["error"] == nil else { return [.chunk(raw)] }
        if chunk["id"]?.stringValue?.isEmpty ?? true { chunk["id"] = .string(id) }
        if case .array(var choices) = chunk["choices"] {
            for position in choices.indices {
                let index = choices[position]["index"]?.intValue ?? 0
                if !(choices[position]["delta"]?["tool_calls"]?.arrayValue?.isEmpty ?? true) { choicesWithToolCalls.insert(index) }
                if let reason = choices[position]["finish_reason"]?.stringValue {
                    let mapped = HuggingFaceResponseTranslator.finishReason(reason, hasToolCalls: choicesWithToolCalls.contains(index))
                    choices[position]["finish_reason"] = .string(mapped)
                }
            }
            chunk["choices"] = .array(choices)
        }
        return [.chunk(chunk.buffer)]
    }

    mutating func finish() throws -> [ChatStreamEvent] { [] }

    /// Whether `chunk` is already what OpenAI's clients expect: an object with a non-empty `id`, no
    /// `error`, and choices that neither finish nor call a tool. False for anything else, or for a
    /// chunk that is not valid JSON (the tree path reads those).
    static func needsNoChange(_ chunk: ByteBuffer) -> Bool {
        chunk.withUnsafeReadableBytes { bytes -> Bool in
            // A payload sent over several `data:` lines holds line breaks, which the client's
            // framing would break on: the tree path writes it on one line.
            guard !bytes.contains(UInt8(ascii: "\n")), let members = try? JSONScanner.topLevelMembers(of: bytes),
                !members.hasDuplicateKeys
            else { return false }
            var hasID = false
            for member in members {
                switch member.key {
                case "error":
                    return false
                case "id":
                    guard member.kind == .string, member.value.count > 2 else { return false }
                    hasID = true
                case "choices":
                    guard member.kind == .array, let choices = try? JSONScanner.elements(ofArrayAt: member.value, in: bytes) else {
                        return false
                    }
                    for choice in choices {
                        guard choice.kind == .object, let fields = try? JSONScanner.members(ofObjectAt: choice.range, in: bytes),
                            !fields.hasDuplicateKeys
                        else { return false }
                        for field in fields {
                            switch field.key {
                            case "finish_reason":
                                guard field.kind == .null else { return false }
                            case "delta":
                                guard field.kind == .object, let delta = try? JSONScanner.members(ofObjectAt: field.value, in: bytes),
                                    !delta.hasDuplicateKeys, !delta.contains(where: { $0.key == "tool_calls" && $0.kind != .null })
                                else { return false }
                            default:
                                continue
                            }
                        }
                    }
                default:
                    continue
                }
            }
            return hasID
        }
    }
}
