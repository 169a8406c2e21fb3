import MultiProdigyJSON
import NIOCore

/// What the gateway needs to know about one streamed `chat.completion.chunk`, and the chunk itself
/// with its `model` rewritten.
public struct InspectedChunk: Sendable {
    /// The chunk with `model` set to the answering target's name.
    public var json: ByteBuffer
    /// Whether it carries answer content: text, a tool call, a refusal or reasoning.
    public var carriesContent: Bool
    /// The `index` of every choice that reports a `finish_reason` in this chunk.
    public var finishedChoices: [Int]
    /// The upstream's in-band error, when the chunk is `{"error":…}` rather than a chunk.
    public var error: GatewayError?
    /// The tokens the answer used, when this chunk reports them (`usage` is an object).
    public var usage: TokenUsage?
    /// When the chunk reports usage: the usage chunk as OpenAI sends it last (`choices` empty,
    /// `model` rewritten), for the gateway to send in its own time. ``json`` then has no `usage`.
    public var usageChunk: ByteBuffer?
    /// Whether the chunk has no choices (a usage-only chunk carries nothing else to forward).
    public var hasNoChoices: Bool = false
}

/// Reads streamed chunks in one pass over their bytes: validates them, finds content and finish
/// reasons, and rewrites `model`.
public enum ChatChunkInspector {
    private static let contentKeys: Set<String> = [
        "content", "tool_calls", "refusal", "function_call", "reasoning_content", "reasoning", "audio",
    ]

    /// Inspects `chunk`; nil when it is not a JSON object (a malformed chunk).
    ///
    /// - Parameters:
    ///   - modelName: The JSON string every chunk's `model` becomes.
    ///   - removesNullUsage: Whether to drop `"usage": null`, which upstreams asked for usage send on
    ///     every chunk, when the client did not ask for it.
    public static func inspect(_ chunk: ByteBuffer, modelName: ByteBuffer, removesNullUsage: Bool = false) -> InspectedChunk? {
        chunk.withUnsafeReadableBytes { bytes -> InspectedChunk? in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes) else { return nil }
            var carriesContent = false
            var finishedChoices: [Int] = []
            var usage: TokenUsage?
            var removesUsage = false
            var hasNoChoices = true
            for member in members {
                switch member.key {
                case "error" where member.kind == .object || member.kind == .string:
                    let error = UpstreamErrorBody.normalize(status: .badGateway, body: chunk, provider: "the upstream")
                    return InspectedChunk(json: chunk, carriesContent: false, finishedChoices: [], error: error)
                case "usage" where member.kind == .object:
                    let fields = (try? JSONScanner.members(ofObjectAt: member.value, in: bytes)) ?? []
                    usage = TokenUsage.read(fields: fields, in: bytes)
                    removesUsage = true
                case "usage" where member.kind == .null:
                    removesUsage = removesNullUsage
                case "choices" where member.kind == .array:
                    let choices = (try? JSONScanner.elements(ofArrayAt: member.value, in: bytes)) ?? []
                    hasNoChoices = choices.isEmpty
                    for choice in choices where choice.kind == .object {
                        let fields = (try? JSONScanner.members(ofObjectAt: choice.range, in: bytes)) ?? []
                        var index = 0
                        var finished = false
                        for field in fields {
                            if field.key == "index", field.kind == .number {
                                index = JSONScanner.integer(at: field.value, in: bytes) ?? 0
                            } else if field.key == "finish_reason", field.kind == .string {
                                finished = true
                            } else if field.key == "delta", field.kind == .object, !carriesContent {
                                carriesContent = deltaCarriesContent(field, bytes: bytes)
                            }
                        }
                        if finished { finishedChoices.append(index) }
                    }
                default:
                    break
                }
            }
            let json = JSONObjectRewriter.rewrite(
                chunk,
                members: members,
                replacing: [(key: "model", value: modelName)],
                removing: removesUsage ? ["usage"] : []
            )
            var inspected = InspectedChunk(json: json, carriesContent: carriesContent, finishedChoices: finishedChoices, error: nil)
            if let usage {
                inspected.usage = usage
                inspected.usageChunk = JSONObjectRewriter.rewrite(
                    chunk,
                    members: members,
                    replacing: [(key: "model", value: modelName), (key: "choices", value: emptyArray)]
                )
            }
            inspected.hasNoChoices = hasNoChoices
            return inspected
        }
    }

    private static let emptyArray = ByteBuffer(string: "[]")

    private static func deltaCarriesContent(_ delta: JSONMember, bytes: UnsafeRawBufferPointer) -> Bool {
        let fields = (try? JSONScanner.members(ofObjectAt: delta.value, in: bytes)) ?? []
        for field in fields where contentKeys.contains(field.key) {
            switch field.kind {
            case .string where field.value.count > 2: return true
            case .array where field.value.count > 2: return true
            case .object: return true
            default: continue
            }
        }
        return false
    }
}
