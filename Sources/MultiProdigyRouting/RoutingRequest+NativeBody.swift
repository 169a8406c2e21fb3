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

    /// The first personal data in the strings of `body`, a request in one of the native APIs as it
    /// goes to the upstream: every block and item, including those the chat translation leaves out
    /// (documents, search results, thinking, tool results, a stored conversation), so that privacy
    /// routing sees what the upstream would. Ids, type names and opaque tokens are skipped, and so
    /// is image data (base64 `data` and `data:` URLs).
    ///
    /// Nesting is followed to a bounded depth (64, well past any real request).
    package static func personalData(inNativeBody body: ByteBuffer) -> PIIKind? {
        body.withUnsafeReadableBytes { bytes in
            guard let root = try? JSONScanner.rootValue(of: bytes) else { return nil }
            var finding: PIIKind?
            scan(root.range, kind: root.kind, key: nil, in: bytes, depth: 0, detector: PIIDetector(), finding: &finding)
            return finding
        }
    }

    private static func scan(
        _ range: Range<Int>,
        kind: JSONValueKind,
        key: String?,
        in bytes: UnsafeRawBufferPointer,
        depth: Int,
        detector: PIIDetector,
        finding: inout PIIKind?
    ) {
        guard finding == nil, depth < 64 else { return }
        switch kind {
        case .string:
            if let key, nonProseKeys.contains(key) { return }
            let contents = (range.lowerBound + 1)..<(range.upperBound - 1)
            // Image data: base64 (Anthropic's `source.data` beside `media_type: image/...`, checked
            // by the caller) or a `data:` URL.
            if contents.count >= 5, bytes[contents.lowerBound..<(contents.lowerBound + 5)].elementsEqual("data:".utf8) { return }
            finding = personalData(inStringContents: contents, of: bytes, detector: detector)
        case .object:
            guard let members = try? JSONScanner.members(ofObjectAt: range, in: bytes) else { return }
            let isBase64Image = members.contains { member in
                member.key == "media_type" && member.kind == .string
                    && JSONScanner.decodeString(at: member.value, in: bytes).hasPrefix("image/")
            }
            for member in members where !(isBase64Image && member.key == "data") {
                scan(member.value, kind: member.kind, key: member.key, in: bytes, depth: depth + 1, detector: detector, finding: &finding)
                if finding != nil { return }
            }
        case .array:
            guard let elements = try? JSONScanner.elements(ofArrayAt: range, in: bytes) else { return }
            for element in elements {
                scan(element.range, kind: element.kind, key: key, in: bytes, depth: depth + 1, detector: detector, finding: &finding)
                if finding != nil { return }
            }
        case .number, .bool, .null:
            return
        }
    }
}
