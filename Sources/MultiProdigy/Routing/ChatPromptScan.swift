/// One pass over a chat request's body that finds what routing needs: the capabilities it uses and
/// the text the model will read.
///
/// Text is handed to the visitor as the raw bytes between a JSON string's quotes, escapes and all,
/// so scanning costs no allocation. Images (`data:` URLs included) are never visited as text.
enum ChatPromptScan {
    /// The capabilities `chat` asks for outside its messages: `tools` when it offers tools, `json`
    /// when `response_format` asks for JSON. (Images, `vision`, are found by ``forEachPart(of:in:_:)``.)
    static func requestedCapabilities(of chat: ChatCompletionRequest, in bytes: UnsafeRawBufferPointer) -> Set<ModelCapability> {
        var capabilities: Set<ModelCapability> = []
        for member in chat.members {
            switch member.key {
            case "tools" where member.kind == .array:
                if let tools = try? JSONScanner.elements(ofArrayAt: member.value, in: bytes), !tools.isEmpty {
                    capabilities.insert(.tools)
                }
            case "response_format" where member.kind == .object:
                let fields = (try? JSONScanner.members(ofObjectAt: member.value, in: bytes)) ?? []
                if let type = fields.first(where: { $0.key == "type" }), type.kind == .string,
                    JSONScanner.decodeString(at: type.value, in: bytes) != "text"
                {
                    capabilities.insert(.json)
                }
            default:
                break
            }
        }
        return capabilities
    }

    /// The output limit the client set: `max_completion_tokens`, else `max_tokens`.
    static func maxOutputTokens(of chat: ChatCompletionRequest, in bytes: UnsafeRawBufferPointer) -> Int? {
        let field =
            chat.members.last { $0.key == "max_completion_tokens" && $0.kind == .number }
            ?? chat.members.last { $0.key == "max_tokens" && $0.kind == .number }
        return field.flatMap { JSONScanner.integer(at: $0.value, in: bytes) }
    }

    /// A piece of a message.
    enum Part {
        /// Raw contents of a JSON string the model reads (message text, tool arguments, tool results).
        case text(Range<Int>)
        /// An image part.
        case image
    }

    /// Calls `visit` with every text and image part of every message, in order.
    static func forEachPart(of chat: ChatCompletionRequest, in bytes: UnsafeRawBufferPointer, _ visit: (Part) -> Void) {
        guard let messages = chat.members.last(where: { $0.key == "messages" }),
            let elements = try? JSONScanner.elements(ofArrayAt: messages.value, in: bytes)
        else { return }
        for element in elements where element.kind == .object {
            guard let fields = try? JSONScanner.members(ofObjectAt: element.range, in: bytes) else { continue }
            for field in fields {
                switch (field.key, field.kind) {
                case ("content", .string):
                    visit(.text(innerRange(of: field.value)))
                case ("content", .array):
                    visitContentParts(at: field.value, in: bytes, visit)
                case ("tool_calls", .array):
                    visitToolCallArguments(at: field.value, in: bytes, visit)
                default:
                    break
                }
            }
        }
    }

    private static func visitContentParts(at range: Range<Int>, in bytes: UnsafeRawBufferPointer, _ visit: (Part) -> Void) {
        guard let parts = try? JSONScanner.elements(ofArrayAt: range, in: bytes) else { return }
        for part in parts where part.kind == .object {
            guard let fields = try? JSONScanner.members(ofObjectAt: part.range, in: bytes) else { continue }
            var isImage = false
            for field in fields {
                switch (field.key, field.kind) {
                case ("text", .string): visit(.text(innerRange(of: field.value)))
                case ("image_url", _), ("input_image", _): isImage = true
                case ("type", .string):
                    let type = UnsafeRawBufferPointer(rebasing: bytes[innerRange(of: field.value)])
                    if type.elementsEqual("image_url".utf8) || type.elementsEqual("input_image".utf8) { isImage = true }
                default: break
                }
            }
            if isImage { visit(.image) }
        }
    }

    private static func visitToolCallArguments(at range: Range<Int>, in bytes: UnsafeRawBufferPointer, _ visit: (Part) -> Void) {
        guard let calls = try? JSONScanner.elements(ofArrayAt: range, in: bytes) else { return }
        for call in calls where call.kind == .object {
            guard let fields = try? JSONScanner.members(ofObjectAt: call.range, in: bytes),
                let function = fields.first(where: { $0.key == "function" && $0.kind == .object }),
                let functionFields = try? JSONScanner.members(ofObjectAt: function.value, in: bytes),
                let arguments = functionFields.first(where: { $0.key == "arguments" && $0.kind == .string })
            else { continue }
            visit(.text(innerRange(of: arguments.value)))
        }
    }

    /// The bytes between a string value's quotes.
    private static func innerRange(of range: Range<Int>) -> Range<Int> {
        range.count >= 2 ? (range.lowerBound + 1)..<(range.upperBound - 1) : range
    }
}
