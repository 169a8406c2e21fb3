import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// What one streamed `chat.completion.chunk` adds to the first choice, read for another front-door
/// API to render as its own stream events.
public struct ChatDelta: Sendable, Equatable {
    /// A piece of the answer's text.
    public var text: String?
    /// A piece of the model's reasoning (`reasoning_content` or `reasoning`).
    public var reasoning: String?
    /// A piece of a refusal.
    public var refusal: String?
    /// Pieces of tool calls: a call starts with its id and name, and its arguments come in pieces.
    public var toolCalls: [ToolCallPiece]
    /// Why the answer ended, in the chunk that says so.
    public var finishReason: String?
    /// The tokens the request used, in the chunk that reports them.
    public var usage: TokenUsage?

    /// A piece of a streamed tool call.
    public struct ToolCallPiece: Sendable, Equatable {
        /// Which call of the answer it belongs to (`index`).
        public var index: Int
        /// The call's id, in its first piece.
        public var id: String?
        /// The function's name, in its first piece.
        public var name: String?
        /// A piece of the arguments' JSON text.
        public var arguments: String?

        /// Creates a piece.
        public init(index: Int, id: String? = nil, name: String? = nil, arguments: String? = nil) {
            self.index = index
            self.id = id
            self.name = name
            self.arguments = arguments
        }
    }

    /// Creates a delta; every part is optional.
    public init(
        text: String? = nil,
        reasoning: String? = nil,
        refusal: String? = nil,
        toolCalls: [ToolCallPiece] = [],
        finishReason: String? = nil,
        usage: TokenUsage? = nil
    ) {
        self.text = text
        self.reasoning = reasoning
        self.refusal = refusal
        self.toolCalls = toolCalls
        self.finishReason = finishReason
        self.usage = usage
    }

    /// Reads a chunk; nil when it is not a JSON object. Choices other than the first (`index` 0)
    /// are ignored.
    public static func read(_ chunk: ByteBuffer) -> ChatDelta? {
        guard let json = try? JSONValue.parse(chunk), json.objectValue != nil else { return nil }
        var delta = ChatDelta()
        if let usage = json["usage"], usage.objectValue != nil {
            delta.usage = TokenUsage.read(usage.buffer)
        }
        guard let choice = json["choices"]?.arrayValue?.first(where: { ($0["index"]?.intValue ?? 0) == 0 }) else {
            return delta
        }
        delta.finishReason = choice["finish_reason"]?.stringValue
        guard let fields = choice["delta"], fields.objectValue != nil else { return delta }
        delta.text = fields["content"].flatMap(ChatAnswer.text(of:))
        delta.reasoning = fields["reasoning_content"]?.stringValue ?? fields["reasoning"]?.stringValue
        delta.refusal = fields["refusal"]?.stringValue
        for (position, call) in (fields["tool_calls"]?.arrayValue ?? []).enumerated() {
            let function = call["function"]
            delta.toolCalls.append(
                ToolCallPiece(
                    index: call["index"]?.intValue ?? position,
                    id: call["id"]?.stringValue,
                    name: function?["name"]?.stringValue,
                    arguments: function?["arguments"]?.stringValue
                )
            )
        }
        return delta
    }
}
