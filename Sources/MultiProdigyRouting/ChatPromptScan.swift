import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore

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
        // Validation allows only positive integers, so one too large for an Int is simply huge.
        return field.map { JSONScanner.integer(at: $0.value, in: bytes) ?? .max }
    }

    /// A piece of a message.
    enum Part {
        /// A JSON string the model reads (message text, names, tool arguments and results, tool
        /// descriptions, predicted output), by the byte range of its contents between the quotes.
        case text(Range<Int>)
        /// An image part.
        case image
    }

    /// Calls `visit` with every text and image part of the request, in order: each message's
    /// `content` (string, or `text`/`refusal` parts, remote image URLs and file names), `name`,
    /// `refusal`, `tool_calls[].function.arguments` and legacy `function_call.arguments`; then every
    /// string inside `tools`, `functions`, `prediction` and `response_format`. `data:` image URLs
    /// are images, never text.
    static func forEachPart(of chat: ChatCompletionRequest, in bytes: UnsafeRawBufferPointer, _ visit: (Part) -> Void) {
        for member in chat.members {
            switch member.key {
            case "messages" where member.kind == .array:
                visitMessages(at: member.value, in: bytes, visit)
            case "tools", "functions", "prediction", "response_format":
                visitStrings(at: member.value, kind: member.kind, in: bytes, depth: 0, visit)
            default:
                break
            }
        }
    }

    private static func visitMessages(at range: Range<Int>, in bytes: UnsafeRawBufferPointer, _ visit: (Part) -> Void) {
        guard let elements = try? JSONScanner.elements(ofArrayAt: range, in: bytes) else { return }
        for element in elements where element.kind == .object {
            guard let fields = try? JSONScanner.members(ofObjectAt: element.range, in: bytes) else { continue }
            for field in fields {
                switch (field.key, field.kind) {
                case ("content", .string), ("name", .string), ("refusal", .string):
                    visit(.text(innerRange(of: field.value)))
                case ("content", .array):
                    visitContentParts(at: field.value, in: bytes, visit)
                case ("tool_calls", .array):
                    visitToolCallArguments(at: field.value, in: bytes, visit)
                case ("function_call", .object):
                    visitFunctionArguments(at: field.value, in: bytes, visit)
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
                case ("text", .string), ("refusal", .string): visit(.text(innerRange(of: field.value)))
                case ("image_url", _), ("input_image", _):
                    isImage = true
                    visitRemoteURL(in: field, bytes: bytes, visit)
                case ("file", .object): visitStrings(at: field.value, kind: .object, in: bytes, depth: 0, visit)
                case ("type", .string):
                    let type = UnsafeRawBufferPointer(rebasing: bytes[innerRange(of: field.value)])
                    if type.elementsEqual("image_url".utf8) || type.elementsEqual("input_image".utf8) { isImage = true }
                default: break
                }
            }
            if isImage { visit(.image) }
        }
    }

    /// An image given by URL: a remote URL's text (its query string may carry data) is scanned; a
    /// `data:` URL's base64 is not text.
    private static func visitRemoteURL(in field: JSONMember, bytes: UnsafeRawBufferPointer, _ visit: (Part) -> Void) {
        var url: Range<Int>?
        if field.kind == .string {
            url = innerRange(of: field.value)
        } else if field.kind == .object, let fields = try? JSONScanner.members(ofObjectAt: field.value, in: bytes),
            let member = fields.first(where: { $0.key == "url" && $0.kind == .string })
        {
            url = innerRange(of: member.value)
        }
        guard let url, !UnsafeRawBufferPointer(rebasing: bytes[url]).starts(with: "data:".utf8) else { return }
        visit(.text(url))
    }

    private static func visitToolCallArguments(at range: Range<Int>, in bytes: UnsafeRawBufferPointer, _ visit: (Part) -> Void) {
        guard let calls = try? JSONScanner.elements(ofArrayAt: range, in: bytes) else { return }
        for call in calls where call.kind == .object {
            guard let fields = try? JSONScanner.members(ofObjectAt: call.range, in: bytes),
                let function = fields.first(where: { $0.key == "function" && $0.kind == .object })
            else { continue }
            visitFunctionArguments(at: function.value, in: bytes, visit)
        }
    }

    private static func visitFunctionArguments(at range: Range<Int>, in bytes: UnsafeRawBufferPointer, _ visit: (Part) -> Void) {
        guard let fields = try? JSONScanner.members(ofObjectAt: range, in: bytes),
            let arguments = fields.first(where: { $0.key == "arguments" && $0.kind == .string })
        else { return }
        visit(.text(innerRange(of: arguments.value)))
    }

    /// How deep ``visitStrings(at:kind:in:depth:_:)`` descends: each level rescans its value, so a
    /// bound keeps a hostile, deeply nested body from costing depth × size.
    static let maximumStringDepth = 32

    /// Every string value (not key) inside the value at `range`, down to ``maximumStringDepth``.
    private static func visitStrings(
        at range: Range<Int>,
        kind: JSONValueKind,
        in bytes: UnsafeRawBufferPointer,
        depth: Int,
        _ visit: (Part) -> Void
    ) {
        guard depth < maximumStringDepth else { return }
        switch kind {
        case .string:
            visit(.text(innerRange(of: range)))
        case .object:
            guard let fields = try? JSONScanner.members(ofObjectAt: range, in: bytes) else { return }
            for field in fields { visitStrings(at: field.value, kind: field.kind, in: bytes, depth: depth + 1, visit) }
        case .array:
            guard let elements = try? JSONScanner.elements(ofArrayAt: range, in: bytes) else { return }
            for element in elements { visitStrings(at: element.range, kind: element.kind, in: bytes, depth: depth + 1, visit) }
        default:
            break
        }
    }

    /// The bytes between a string value's quotes.
    static func innerRange(of range: Range<Int>) -> Range<Int> {
        range.count >= 2 ? (range.lowerBound + 1)..<(range.upperBound - 1) : range
    }
}
