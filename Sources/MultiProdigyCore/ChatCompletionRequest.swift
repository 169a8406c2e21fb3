import MultiProdigyJSON
import NIOCore

/// A validated `POST /v1/chat/completions` body, kept as the client's original bytes.
///
/// Parsing checks the JSON syntax, the presence and type of `model` and `messages`, and the types of
/// the well-known optional fields, answering OpenAI-style 400 errors that name the offending `param`.
/// Everything else is left alone: ``upstreamBody(model:)`` copies the client's bytes, rewriting only
/// `model` and removing the gateway's own `multiprodigy` field.
public struct ChatCompletionRequest: Sendable {
    /// The client's body, unchanged.
    public let body: ByteBuffer
    /// The top-level members of `body`.
    public let members: [JSONMember]
    /// The `model` the client asked for: a route, a declared model, or `provider/model`.
    public let model: String
    /// Whether the client asked for a server-sent-event stream.
    public let isStreaming: Bool
    /// Whether the client asked for a final usage chunk (`stream_options.include_usage`).
    public let includeUsage: Bool
    /// Number of messages in the conversation.
    public let messageCount: Int
    /// How many choices the client asked for (`n`, default 1).
    public let choiceCount: Int

    /// The most choices a request may ask for (`n`), as OpenAI allows.
    public static let maximumChoiceCount = 128

    /// The name of the gateway's extension field, removed before forwarding.
    public static let extensionField = "multiprodigy"

    /// Parses and validates a request body.
    ///
    /// - Throws: ``GatewayError`` with status 400 and type `invalid_request_error`.
    public static func parse(_ body: ByteBuffer) throws(GatewayError) -> ChatCompletionRequest {
        let result: Result<ChatCompletionRequest, GatewayError> = body.withUnsafeReadableBytes { bytes in
            Result { () throws(GatewayError) -> ChatCompletionRequest in try parse(body: body, bytes: bytes) }
        }
        return try result.get()
    }

    private static func parse(body: ByteBuffer, bytes: UnsafeRawBufferPointer) throws(GatewayError) -> ChatCompletionRequest {
        guard !bytes.isEmpty else {
            throw .invalidRequest(
                "The request body is empty. Send a JSON object with 'model' and 'messages'.",
                code: "invalid_json"
            )
        }
        let members: [JSONMember]
        do {
            members = try JSONScanner.topLevelMembers(of: bytes)
        } catch {
            throw .invalidRequest(
                "We could not parse the JSON body of your request: \(error.reason) at byte \(error.offset). "
                    + "Send a valid JSON object.",
                code: "invalid_json"
            )
        }
        var model: String?
        var messages: JSONMember?
        var isStreaming = false
        var includeUsage = false
        var choiceCount = 1
        for member in members {
            if let expected = fieldTypes[member.key], member.kind != .null, !expected.accepts(member, in: bytes) {
                throw .invalidRequest(
                    "Invalid type for '\(member.key)': expected \(expected.description), but got \(member.kind.description) instead.",
                    param: member.key,
                    code: "invalid_type"
                )
            }
            switch member.key {
            case "model" where member.kind == .string:
                model = JSONScanner.decodeString(at: member.value, in: bytes)
            case "messages":
                messages = member
            case "stream":
                isStreaming = member.kind == .bool && bytes[member.value.lowerBound] == UInt8(ascii: "t")
            case "max_tokens" where member.kind == .number, "max_completion_tokens" where member.kind == .number:
                // The type is checked above; what is left is the sign (a huge value that does not fit
                // an Int is still at least 1).
                if bytes[member.value.lowerBound] == UInt8(ascii: "-") || JSONScanner.integer(at: member.value, in: bytes) == 0 {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[member.value]), as: UTF8.self)
                    throw .invalidRequest(
                        "Invalid '\(member.key)': integer below minimum value. Expected a value >= 1, but got \(EchoedName.shortened(text)) instead.",
                        param: member.key,
                        code: "integer_below_min_value"
                    )
                }
            case "n" where member.kind == .number:
                guard let n = JSONScanner.integer(at: member.value, in: bytes), n >= 1 else {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[member.value]), as: UTF8.self)
                    throw .invalidRequest(
                        "Invalid 'n': integer below minimum value. Expected a value >= 1, but got \(EchoedName.shortened(text)) instead.",
                        param: "n",
                        code: "integer_below_min_value"
                    )
                }
                guard n <= Self.maximumChoiceCount else {
                    throw .invalidRequest(
                        "Invalid 'n': integer above maximum value. Expected a value <= \(Self.maximumChoiceCount), but got \(n) instead.",
                        param: "n",
                        code: "integer_above_max_value"
                    )
                }
                choiceCount = n
            case "stream_options" where member.kind == .object:
                includeUsage = try streamOptionsIncludeUsage(member, bytes: bytes)
            default:
                break
            }
        }
        guard let model, !model.isEmpty else {
            throw .invalidRequest("You must provide a model parameter.", param: "model", code: "missing_required_parameter")
        }
        guard let messages, messages.kind == .array else {
            throw .invalidRequest("Missing required parameter: 'messages'.", param: "messages", code: "missing_required_parameter")
        }
        let messageCount = try validateMessages(messages, bytes: bytes)
        return ChatCompletionRequest(
            body: body,
            members: members,
            model: model,
            isStreaming: isStreaming,
            includeUsage: includeUsage,
            messageCount: messageCount,
            choiceCount: choiceCount
        )
    }

    private static func streamOptionsIncludeUsage(_ member: JSONMember, bytes: UnsafeRawBufferPointer) throws(GatewayError) -> Bool {
        let options = (try? JSONScanner.members(ofObjectAt: member.value, in: bytes)) ?? []
        guard let include = options.first(where: { $0.key == "include_usage" }) else { return false }
        switch include.kind {
        case .bool: return bytes[include.value.lowerBound] == UInt8(ascii: "t")
        case .null: return false
        default:
            throw .invalidRequest(
                "Invalid type for 'stream_options.include_usage': expected a boolean, but got \(include.kind.description) instead.",
                param: "stream_options.include_usage",
                code: "invalid_type"
            )
        }
    }

    private static func validateMessages(_ member: JSONMember, bytes: UnsafeRawBufferPointer) throws(GatewayError) -> Int {
        let elements = (try? JSONScanner.elements(ofArrayAt: member.value, in: bytes)) ?? []
        guard !elements.isEmpty else {
            throw .invalidRequest(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                param: "messages",
                code: "empty_array"
            )
        }
        for (index, element) in elements.enumerated() {
            guard element.kind == .object else {
                throw .invalidRequest(
                    "Invalid type for 'messages[\(index)]': expected an object, but got \(element.kind.description) instead.",
                    param: "messages[\(index)]",
                    code: "invalid_type"
                )
            }
            let fields = (try? JSONScanner.members(ofObjectAt: element.range, in: bytes)) ?? []
            guard let role = fields.first(where: { $0.key == "role" }) else {
                throw .invalidRequest(
                    "Missing required parameter: 'messages[\(index)].role'.",
                    param: "messages[\(index)].role",
                    code: "missing_required_parameter"
                )
            }
            guard role.kind == .string else {
                throw .invalidRequest(
                    "Invalid type for 'messages[\(index)].role': expected a string, but got \(role.kind.description) instead.",
                    param: "messages[\(index)].role",
                    code: "invalid_type"
                )
            }
        }
        return elements.count
    }

    /// The body to send to an OpenAI-compatible upstream: `model` set to `upstreamModel`, the
    /// `multiprodigy` extension removed, every other byte as the client sent it.
    ///
    /// A stream always asks for the final usage chunk (`stream_options.include_usage`), which the
    /// gateway needs to price the answer; when the client did not ask for it, the gateway removes
    /// it again before the client sees it.
    ///
    /// - Parameter requestingUsage: False for an upstream that refuses `stream_options`; the
    ///   gateway then estimates a stream's usage.
    public func upstreamBody(model upstreamModel: String, requestingUsage: Bool = true) -> ByteBuffer {
        var replacements = [(key: "model", value: JSONWriter.encodedString(upstreamModel))]
        if isStreaming, !includeUsage, requestingUsage {
            replacements.append((key: "stream_options", value: streamOptionsWithUsage()))
        }
        return JSONObjectRewriter.rewrite(body, members: members, replacing: replacements, removing: [Self.extensionField])
    }

    /// The same request asking for a stream (`"stream": true`, every other byte as the client sent
    /// it), which the gateway sends in place of a non-streaming request so that a silent upstream
    /// shows within the stream limits; the chunks are assembled into the client's answer.
    ///
    /// - Throws: ``GatewayError`` when the rewritten body does not parse (it came from one that did).
    public func askingForStream() throws(GatewayError) -> ChatCompletionRequest {
        let body = JSONObjectRewriter.rewrite(body, members: members, replacing: [(key: "stream", value: ByteBuffer(string: "true"))])
        return try ChatCompletionRequest.parse(body)
    }

    /// The client's `stream_options` with `include_usage: true`.
    private func streamOptionsWithUsage() -> ByteBuffer {
        let include = ByteBuffer(string: "true")
        guard let options = members.last(where: { $0.key == "stream_options" && $0.kind == .object }) else {
            return ByteBuffer(string: #"{"include_usage":true}"#)
        }
        let fields = body.withUnsafeReadableBytes { (try? JSONScanner.members(ofObjectAt: options.value, in: $0)) ?? [] }
        return JSONObjectRewriter.rewrite(body, members: fields, replacing: [(key: "include_usage", value: include)])
    }

    /// What a well-known field must hold.
    private enum ExpectedType {
        case string, number, integer, boolean, object, array, stringOrArray, stringOrObject

        var description: String {
            switch self {
            case .string: "a string"
            case .number: "a number"
            case .integer: "an integer"
            case .boolean: "a boolean"
            case .object: "an object"
            case .array: "an array"
            case .stringOrArray: "a string or an array"
            case .stringOrObject: "a string or an object"
            }
        }

        func accepts(_ member: JSONMember, in bytes: UnsafeRawBufferPointer) -> Bool {
            switch self {
            case .string: member.kind == .string
            case .number: member.kind == .number
            case .integer: member.kind == .number && JSONScanner.isInteger(at: member.value, in: bytes)
            case .boolean: member.kind == .bool
            case .object: member.kind == .object
            case .array: member.kind == .array
            case .stringOrArray: member.kind == .string || member.kind == .array
            case .stringOrObject: member.kind == .string || member.kind == .object
            }
        }
    }

    private static let fieldTypes: [String: ExpectedType] = [
        "model": .string,
        "messages": .array,
        "stream": .boolean,
        "stream_options": .object,
        "temperature": .number,
        "top_p": .number,
        "frequency_penalty": .number,
        "presence_penalty": .number,
        "max_tokens": .integer,
        "max_completion_tokens": .integer,
        "n": .integer,
        "seed": .integer,
        "top_logprobs": .integer,
        "logprobs": .boolean,
        "parallel_tool_calls": .boolean,
        "tools": .array,
        "tool_choice": .stringOrObject,
        "stop": .stringOrArray,
        "response_format": .object,
        "user": .string,
        "metadata": .object,
        "logit_bias": .object,
        extensionField: .object,
    ]
}
