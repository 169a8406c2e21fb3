import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// A chat completion as the gateway answered it (`chat.completion`, `model` rewritten, `cost_usd`
/// added), read for another front-door API to render in its own shape.
///
/// Only the first choice is read: the Messages and Responses APIs have one answer per request.
public struct ChatAnswer: Sendable, Equatable {
    /// The completion's `id`.
    public var id: String
    /// Its `created` time, in seconds since 1970.
    public var created: Int
    /// The declared name of the model that answered.
    public var model: String
    /// The answer's text; nil when it has none (a tool call only).
    public var text: String?
    /// The model's reasoning, when the upstream reports it (`reasoning_content` or `reasoning`).
    public var reasoning: String?
    /// The model's refusal, when it refused.
    public var refusal: String?
    /// The tools the model called, in order.
    public var toolCalls: [ChatToolCall]
    /// Why the answer ended (`stop`, `length`, `tool_calls`, `content_filter`); nil when not said.
    public var finishReason: String?
    /// The tokens the request used, when reported.
    public var usage: TokenUsage?
    /// What the request cost (`usage.cost_usd`), when the gateway priced it.
    public var costUSD: Double?

    /// Creates an answer; every part but the identity is optional.
    public init(
        id: String,
        created: Int,
        model: String,
        text: String? = nil,
        reasoning: String? = nil,
        refusal: String? = nil,
        toolCalls: [ChatToolCall] = [],
        finishReason: String? = nil,
        usage: TokenUsage? = nil,
        costUSD: Double? = nil
    ) {
        self.id = id
        self.created = created
        self.model = model
        self.text = text
        self.reasoning = reasoning
        self.refusal = refusal
        self.toolCalls = toolCalls
        self.finishReason = finishReason
        self.usage = usage
        self.costUSD = costUSD
    }

    /// Reads a `chat.completion` body; nil when it is not a JSON object.
    ///
    /// Missing parts are empty rather than errors: the executor has already accepted the body as an
    /// answer, and an answer without text is still an answer.
    public static func read(_ body: ByteBuffer) -> ChatAnswer? {
        guard let json = try? JSONValue.parse(body), json.objectValue != nil else { return nil }
        let message = json["choices"]?.arrayValue?.first?["message"]
        var answer = ChatAnswer(
            id: json["id"]?.stringValue ?? "",
            created: json["created"]?.intValue ?? 0,
            model: json["model"]?.stringValue ?? "",
            text: message?["content"].flatMap(Self.text(of:)),
            reasoning: message?["reasoning_content"]?.stringValue ?? message?["reasoning"]?.stringValue,
            refusal: message?["refusal"]?.stringValue,
            finishReason: json["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue
        )
        for call in message?["tool_calls"]?.arrayValue ?? [] {
            let function = call["function"]
            answer.toolCalls.append(
                ChatToolCall(
                    id: call["id"]?.stringValue ?? "",
                    name: function?["name"]?.stringValue ?? "",
                    arguments: function?["arguments"]?.stringValue ?? "{}"
                )
            )
        }
        if let usage = json["usage"], usage.objectValue != nil {
            answer.usage = TokenUsage.read(usage.buffer)
            answer.costUSD = usage["cost_usd"]?.doubleValue
        }
        return answer
    }

    /// Reads a `chat.completion` body that must be one.
    ///
    /// - Throws: a 502 ``GatewayError`` when it is not a JSON object (the executor accepted it as
    ///   an answer, so the upstream's bytes are at fault, not the client's request).
    public static func reading(_ body: ByteBuffer) throws(GatewayError) -> ChatAnswer {
        guard let answer = read(body) else {
            throw GatewayError(
                status: .badGateway,
                message: "The upstream's answer could not be read as a chat completion.",
                type: "server_error",
                code: "upstream_bad_response"
            )
        }
        return answer
    }

    /// A message's `content`: a string, or the text of an array of parts (some upstreams answer
    /// with parts).
    static func text(of content: JSONValue) -> String? {
        if let string = content.stringValue { return string }
        guard let parts = content.arrayValue else { return nil }
        let texts = parts.compactMap { $0["text"]?.stringValue }
        return texts.isEmpty ? nil : texts.joined()
    }
}
