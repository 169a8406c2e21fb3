import MultiProdigyJSON

/// What one event of a native stream means to the gateway's relay: enough to commit the stream at
/// its first content, to tell a complete answer from a cut one, and to notice an upstream's in-band
/// failure. Everything else about the event is the client's, and it passes unchanged.
public enum NativeStreamEvent: Equatable, Sendable {
    /// The upstream produced answer content: a delta of text, of a tool call's arguments, of
    /// reasoning. A block or item that merely opens is not yet content: a reasoning model may open
    /// one and think in silence, and the stream must not commit (and give up its failover) then.
    case content
    /// The API's last event of a complete answer: Anthropic's `message_stop`; OpenAI's
    /// `response.completed` or `response.incomplete` (an answer cut by a limit, and saying so).
    case completion
    /// The upstream reported a failure in-band (Anthropic's `error`; OpenAI's `error` or
    /// `response.failed`), with its message when it gave one.
    case failure(message: String?)
    /// Anything else (`message_start`, `ping`, `response.created`, ...).
    case other

    /// Reads what `event` of an `api` stream means. The type is the data's `type` member (what
    /// the gateway's writer and the clients' SDKs read), or the `event:` name when the data has none.
    public static func classify(_ event: SSEEvent, api: NativeAPI) -> NativeStreamEvent {
        let type = Self.dataType(of: event.data) ?? event.name ?? ""
        switch api {
        case .messages, .messagesCountTokens:
            switch type {
            case "content_block_delta": return .content
            case "message_stop": return .completion
            case "error": return .failure(message: Self.errorMessage(in: event.data, path: ["error", "message"]))
            default: return .other
            }
        case .responses:
            switch type {
            case "response.completed", "response.incomplete": return .completion
            case "error": return .failure(message: Self.errorMessage(in: event.data, path: ["message"]))
            case "response.failed": return .failure(message: Self.errorMessage(in: event.data, path: ["response", "error", "message"]))
            default:
                // Deltas, and the progress of a tool the provider runs (a web search, an image
                // being generated): the upstream is at work on the answer, which may have no
                // text at all, and must not be cut as silent.
                return type.hasSuffix(".delta") || type.contains("_call.") ? .content : .other
            }
        }
    }

    /// The data's top-level `type` string, if it is a JSON object that has one.
    private static func dataType(of data: [UInt8]) -> String? {
        data.withUnsafeBytes { bytes in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes),
                let type = members.last(where: { $0.key == "type" && $0.kind == .string })
            else { return nil }
            return JSONScanner.decodeString(at: type.value, in: bytes)
        }
    }

    /// The string at `path` (object keys) in the data, if there is one.
    private static func errorMessage(in data: [UInt8], path: [String]) -> String? {
        data.withUnsafeBytes { bytes -> String? in
            guard var members = try? JSONScanner.topLevelMembers(of: bytes) else { return nil }
            for (position, key) in path.enumerated() {
                guard let member = members.last(where: { $0.key == key }) else { return nil }
                if position == path.count - 1 {
                    return member.kind == .string ? JSONScanner.decodeString(at: member.value, in: bytes) : nil
                }
                guard member.kind == .object, let inner = try? JSONScanner.members(ofObjectAt: member.value, in: bytes) else { return nil }
                members = inner
            }
            return nil
        }
    }
}
