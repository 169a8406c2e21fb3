import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// Reads and annotates a non-streamed answer in a ``NativeAPI`` that an upstream gave, which the
/// gateway passes through to the client almost unchanged.
///
/// Everything works on the bytes with ``JSONScanner``'s members and ``JSONObjectRewriter``: members
/// the gateway does not touch reach the client byte for byte.
///
/// ```swift
/// // nil when the upstream reported none: estimate it from `outputText(of:api:)`.
/// let usage = NativeAnswer.usage(of: body, api: .messages)
/// let cost = usage.map { CostAnnotation.number(CostModel.usd($0, price: price)) }
/// let answer = NativeAnswer.annotated(body, api: .messages, modelName: "claude", costUSD: cost)
/// ```
public enum NativeAnswer {
    /// The usage the answer reports; nil when it reports none (no `usage` object or no counts in it),
    /// when it is not a JSON object, and for token counting (`.messagesCountTokens`), which is not
    /// an answer.
    ///
    /// - Anthropic (`.messages`): prompt tokens are `input_tokens` + `cache_creation_input_tokens` +
    ///   `cache_read_input_tokens` (Anthropic's `input_tokens` excludes the cached ones), of which
    ///   `cache_read_input_tokens` are cached and `cache_creation_input_tokens` written to the cache;
    ///   completion tokens are `output_tokens`.
    /// - Responses: `input_tokens`, `output_tokens`, `input_tokens_details.cached_tokens` and
    ///   `output_tokens_details.reasoning_tokens`.
    public static func usage(of body: ByteBuffer, api: NativeAPI) -> TokenUsage? {
        guard api != .messagesCountTokens else { return nil }
        return body.withUnsafeReadableBytes { bytes -> TokenUsage? in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes),
                let usageMember = members.last(where: { $0.key == "usage" && $0.kind == .object }),
                let fields = try? JSONScanner.members(ofObjectAt: usageMember.value, in: bytes)
            else { return nil }
            return usage(fields: fields, in: bytes, api: api)
        }
    }

    /// The answer as the client gets it: top-level `model` set to `modelName` (the gateway's name
    /// for the target that answered), and `usage.cost_usd` added when a cost is given and the answer
    /// has a `usage` object. Every other member is copied unchanged.
    ///
    /// `body` is returned unchanged when it is not a JSON object, and for token counting
    /// (`.messagesCountTokens`), whose answer names no model.
    ///
    /// - Parameter costUSD: The answer's cost as a JSON number (`CostAnnotation.number(_:)`), nil
    ///   when unknown. Bytes rather than a `Double` because the gateway's cost formatting lives in a
    ///   layer above this one.
    /// - Parameters:
    ///   - responseID: For Responses, the gateway's own id for the answer, which replaces the
    ///     upstream's; nil keeps it.
    ///   - previousResponseID: For Responses, the client's `previous_response_id`, which the
    ///     upstream never saw (it was sent the conversation instead); nil keeps the upstream's.
    public static func annotated(
        _ body: ByteBuffer,
        api: NativeAPI,
        modelName: String,
        costUSD: ByteBuffer?,
        responseID: String? = nil,
        previousResponseID: String? = nil
    ) -> ByteBuffer {
        pricing(body, api: api, modelName: modelName, responseID: responseID, previousResponseID: previousResponseID) { _ in costUSD }
            .body
    }

    /// ``usage(of:api:)`` and ``annotated(_:api:modelName:costUSD:responseID:previousResponseID:)``
    /// in one scan of the answer: its usage, and the answer as the client gets it, with the cost
    /// `price` gives for that usage (nil: none written; it is not asked when there is no usage).
    public static func pricing(
        _ body: ByteBuffer,
        api: NativeAPI,
        modelName: String,
        responseID: String? = nil,
        previousResponseID: String? = nil,
        price: (TokenUsage) -> ByteBuffer?
    ) -> (body: ByteBuffer, usage: TokenUsage?) {
        guard api != .messagesCountTokens else { return (body, nil) }
        return body.withUnsafeReadableBytes { bytes -> (body: ByteBuffer, usage: TokenUsage?) in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes) else { return (body, nil) }
            var replacements = [(key: "model", value: JSONWriter.encodedString(modelName))]
            if api == .responses, let responseID { replacements.append((key: "id", value: JSONWriter.encodedString(responseID))) }
            if api == .responses, let previousResponseID {
                replacements.append((key: "previous_response_id", value: JSONWriter.encodedString(previousResponseID)))
            }
            var usage: TokenUsage?
            if let usageMember = members.last(where: { $0.key == "usage" && $0.kind == .object }),
                let fields = try? JSONScanner.members(ofObjectAt: usageMember.value, in: bytes)
            {
                usage = Self.usage(fields: fields, in: bytes, api: api)
                if let usage, let costUSD = price(usage) {
                    let priced = JSONObjectRewriter.rewrite(body, members: fields, replacing: [(key: "cost_usd", value: costUSD)])
                    replacements.append((key: "usage", value: priced))
                }
            }
            return (JSONObjectRewriter.rewrite(body, members: members, replacing: replacements), usage)
        }
    }

    /// The characters of the answer's text, to estimate its tokens when the upstream reported no
    /// usage; 0 when it is not a JSON object and for token counting.
    ///
    /// - Anthropic: the `content` blocks' `text` and `thinking`, and the JSON of tool calls' `input`.
    /// - Responses: the `output` items' `output_text` and `refusal` parts, function calls'
    ///   `arguments`, custom tool calls' `input`, and reasoning items' summary and text.
    public static func outputText(of body: ByteBuffer, api: NativeAPI) -> Int {
        guard api != .messagesCountTokens else { return 0 }
        return body.withUnsafeReadableBytes { bytes -> Int in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes) else { return 0 }
            switch api {
            case .messages, .messagesCountTokens:
                return objects(inArray: "content", of: members, bytes: bytes).reduce(0) { $0 + messagesBlockCharacters($1, bytes: bytes) }
            case .responses:
                return objects(inArray: "output", of: members, bytes: bytes).reduce(0) { $0 + responsesItemCharacters($1, bytes: bytes) }
            }
        }
    }

    /// The usage of a `usage` object's `fields` in `api`'s counting.
    static func usage(fields: [JSONMember], in bytes: UnsafeRawBufferPointer, api: NativeAPI) -> TokenUsage? {
        switch api {
        case .messages: MessagesUsageCounts(fields: fields, in: bytes).tokenUsage
        case .responses: TokenUsage.readResponsesUsage(fields: fields, in: bytes)
        case .messagesCountTokens: nil
        }
    }

    /// The members of each object in the array member `key` of `members`.
    private static func objects(inArray key: String, of members: [JSONMember], bytes: UnsafeRawBufferPointer) -> [[JSONMember]] {
        guard let array = members.last(where: { $0.key == key && $0.kind == .array }),
            let elements = try? JSONScanner.elements(ofArrayAt: array.value, in: bytes)
        else { return [] }
        return elements.compactMap { $0.kind == .object ? try? JSONScanner.members(ofObjectAt: $0.range, in: bytes) : nil }
    }

    /// The characters of one Anthropic content block: text, thinking, or a tool call's input JSON
    /// (which the model wrote as `partial_json` when streaming).
    private static func messagesBlockCharacters(_ block: [JSONMember], bytes: UnsafeRawBufferPointer) -> Int {
        JSONScanner.characterCount(ofString: "text", in: block, bytes: bytes)
            + JSONScanner.characterCount(ofString: "thinking", in: block, bytes: bytes)
            + (block.last { $0.key == "input" && $0.kind == .object }?.value.count ?? 0)
    }

    /// The characters of one Responses output item.
    private static func responsesItemCharacters(_ item: [JSONMember], bytes: UnsafeRawBufferPointer) -> Int {
        let type = item.last { $0.key == "type" && $0.kind == .string }.map { JSONScanner.decodeString(at: $0.value, in: bytes) }
        switch type {
        case "message":
            return objects(inArray: "content", of: item, bytes: bytes).reduce(0) { total, part in
                total + JSONScanner.characterCount(ofString: "text", in: part, bytes: bytes)
                    + JSONScanner.characterCount(ofString: "refusal", in: part, bytes: bytes)
            }
        case "function_call":
            return JSONScanner.characterCount(ofString: "arguments", in: item, bytes: bytes)
        case "custom_tool_call":
            return JSONScanner.characterCount(ofString: "input", in: item, bytes: bytes)
        case "reasoning":
            return (objects(inArray: "summary", of: item, bytes: bytes) + objects(inArray: "content", of: item, bytes: bytes))
                .reduce(0) { $0 + JSONScanner.characterCount(ofString: "text", in: $1, bytes: bytes) }
        default:
            return 0
        }
    }
}
