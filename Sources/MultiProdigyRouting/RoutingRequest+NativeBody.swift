import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore

extension RoutingRequest {
    /// The members whose strings are never prose: ids, names of types and models, and opaque
    /// tokens (a thinking block's `signature`, a reasoning item's `encrypted_content`).
    static let nonProseKeys: Set<String> = [
        "id", "type", "model", "role", "call_id", "tool_use_id", "media_type", "signature", "encrypted_content",
        "previous_response_id", "status", "stop_reason", "detail", "format",
    ]

    /// What the prose of `body` holds, a request in one of the native APIs as it goes to the
    /// upstream: its estimated tokens and, when `detectsPII`, the first personal data in it.
    ///
    /// Every block and item counts, including those the chat translation leaves out (documents,
    /// search results, thinking, tool results, a stored conversation), so that privacy routing and
    /// the prompt estimate see what the upstream would. Ids, type names and opaque tokens are
    /// skipped, and so is image data (base64 `data` and `data:` URLs). Nesting is followed to a
    /// bounded depth (64, well past any real request).
    package static func prose(ofNativeBody body: ByteBuffer, detectsPII: Bool) -> (tokens: Int, personalData: PIIKind?) {
        body.withUnsafeReadableBytes { bytes in
            guard let root = try? JSONScanner.rootValue(of: bytes) else { return (0, nil) }
            var walk = ProseWalk(detector: detectsPII ? PIIDetector() : nil)
            walk.scan(root.range, kind: root.kind, key: nil, in: bytes, depth: 0)
            return (walk.tokens, walk.finding)
        }
    }

    /// The first personal data in the prose of `body` (see ``prose(ofNativeBody:detectsPII:)``).
    package static func personalData(inNativeBody body: ByteBuffer) -> PIIKind? {
        prose(ofNativeBody: body, detectsPII: true).personalData
    }
}

/// One walk over a native body's strings.
private struct ProseWalk {
    /// Looks for personal data until it finds some; nil when not asked to.
    let detector: PIIDetector?
    var tokens = 0
    var finding: PIIKind?

    mutating func scan(_ range: Range<Int>, kind: JSONValueKind, key: String?, in bytes: UnsafeRawBufferPointer, depth: Int) {
        guard depth < 64 else { return }
        switch kind {
        case .string:
            if let key, RoutingRequest.nonProseKeys.contains(key) { return }
            let contents = (range.lowerBound + 1)..<(range.upperBound - 1)
            // Image data as a `data:` URL (base64 `data` beside an image `media_type` is skipped
            // by the object's scan).
            if contents.count >= 5, bytes[contents.lowerBound..<(contents.lowerBound + 5)].elementsEqual("data:".utf8) { return }
            tokens += TokenEstimator.estimateTokens(inText: UnsafeRawBufferPointer(rebasing: bytes[contents]))
            if finding == nil, let detector {
                finding = RoutingRequest.personalData(inStringContents: contents, of: bytes, detector: detector)
            }
        case .object:
            guard let members = try? JSONScanner.members(ofObjectAt: range, in: bytes) else { return }
            let isBase64Image = members.contains { member in
                member.key == "media_type" && member.kind == .string
                    && JSONScanner.decodeString(at: member.value, in: bytes).hasPrefix("image/")
            }
            for member in members where !(isBase64Image && member.key == "data") {
                scan(member.value, kind: member.kind, key: member.key, in: bytes, depth: depth + 1)
            }
        case .array:
            guard let elements = try? JSONScanner.elements(ofArrayAt: range, in: bytes) else { return }
            for element in elements {
                scan(element.range, kind: element.kind, key: key, in: bytes, depth: depth + 1)
            }
        case .number, .bool, .null:
            return
        }
    }
}
