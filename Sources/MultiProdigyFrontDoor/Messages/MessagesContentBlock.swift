import MultiProdigyJSON

/// One validated content block of a Messages request, in the form the chat translation needs.
enum MessagesContentBlock: Sendable, Equatable {
    /// `{"type":"text","text":…}`.
    case text(String)
    /// `{"type":"image","source":…}` with a base64 or URL source.
    case image(ImageSource)
    /// `{"type":"tool_use","id","name","input"}`, in an assistant turn.
    case toolUse(id: String, name: String, input: JSONValue)
    /// `{"type":"tool_result","tool_use_id","content","is_error"}`, in a user turn; its content holds
    /// text and image blocks only.
    case toolResult(toolUseID: String, content: [MessagesContentBlock], isError: Bool)
    /// A `thinking` or `redacted_thinking` block: accepted, and dropped in translation because chat
    /// has no place for a previous turn's reasoning.
    case thinking
    /// A block only Anthropic can serve (`document`, the results of its server tools, a Files API
    /// image); the request records its path in ``MessagesRequest/anthropicOnlyBlocks``.
    case anthropicOnly

    /// Where an image block's bytes come from.
    enum ImageSource: Sendable, Equatable {
        /// Inline bytes: `{"type":"base64","media_type":…,"data":…}`.
        case base64(mediaType: String, data: String)
        /// `{"type":"url","url":…}`.
        case url(String)

        /// The image as a chat `image_url.url`: base64 bytes become a `data:` URL.
        var chatURL: String {
            switch self {
            case .base64(let mediaType, let data): "data:\(mediaType);base64,\(data)"
            case .url(let url): url
            }
        }
    }
}
