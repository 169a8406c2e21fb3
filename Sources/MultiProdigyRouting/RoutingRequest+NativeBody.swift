import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore

extension RoutingRequest {
    /// The members whose strings are never prose, in the API's own objects (blocks, items,
    /// sources): ids, names of types and models, and opaque tokens (a thinking block's
    /// `signature`, a reasoning item's `encrypted_content`).
    static let nonProseKeys: Set<String> = [
        "id", "type", "model", "role", "call_id", "tool_use_id", "media_type", "signature", "encrypted_content",
        "previous_response_id", "status", "stop_reason", "detail", "format",
    ]

    /// The members that hold the client's own objects (a tool call's `input`, `metadata`): their
    /// JSON is read whole, as chat reads a tool call's `arguments`, so that no key of theirs is
    /// mistaken for the API's and a secret named by its key (`"api_key": "…"`) is still seen.
    static let clientObjectKeys: Set<String> = ["input", "metadata", "arguments"]

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

    /// Scans the value at `range`: a member `key`'s value, or (`isElement`) an element of the array
    /// that is member `key`'s value.
    mutating func scan(
        _ range: Range<Int>,
        kind: JSONValueKind,
        key: String?,
        isElement: Bool = false,
        in bytes: UnsafeRawBufferPointer,
        depth: Int
    ) {
        guard depth < 64 else { return }
        switch kind {
        case .string:
            if let key, RoutingRequest.nonProseKeys.contains(key) { return }
            let contents = (range.lowerBound + 1)..<(range.upperBound - 1)
            // Base64 data in a `data:` URL (an image, a file) is no prose; text that merely
            // starts with "data:" is. (Base64 `data` in a source object is skipped by its scan.)
            if Self.isBase64DataURL(contents, in: bytes) { return }
            tokens += TokenEstimator.estimateTokens(inText: UnsafeRawBufferPointer(rebasing: bytes[contents]))
            if finding == nil, let detector {
                finding = RoutingRequest.personalData(inStringContents: contents, of: bytes, detector: detector)
            }
        case .object where !isElement && key.map(RoutingRequest.clientObjectKeys.contains) == true:
            let json = UnsafeRawBufferPointer(rebasing: bytes[range])
            tokens += TokenEstimator.estimateTokens(inText: json)
            if finding == nil, let detector { finding = detector.firstFinding(in: json) }
        case .object:
            guard let members = try? JSONScanner.members(ofObjectAt: range, in: bytes) else { return }
            // A base64 source (an image, a PDF): its data is neither prose nor readable.
            let isBase64Source = members.contains { member in
                member.key == "type" && member.kind == .string && JSONScanner.decodeString(at: member.value, in: bytes) == "base64"
            }
            for member in members where !(isBase64Source && member.key == "data") {
                scan(member.value, kind: member.kind, key: member.key, in: bytes, depth: depth + 1)
            }
        case .array:
            guard let elements = try? JSONScanner.elements(ofArrayAt: range, in: bytes) else { return }
            for element in elements {
                scan(element.range, kind: element.kind, key: key, isElement: true, in: bytes, depth: depth + 1)
            }
        case .number, .bool, .null:
            return
        }
    }

    /// Whether the string contents at `range` are a `data:` URL of base64 data
    /// (`data:<media type>;base64,…`).
    static func isBase64DataURL(_ range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> Bool {
        guard range.count > 5, bytes[range.lowerBound..<(range.lowerBound + 5)].elementsEqual("data:".utf8) else { return false }
        let head = UnsafeRawBufferPointer(rebasing: bytes[range.lowerBound..<min(range.upperBound, range.lowerBound + 128)])
        let marker = Array(";base64,".utf8)
        guard head.count >= marker.count else { return false }
        for start in 0...(head.count - marker.count) where head[start] == marker[0] {
            if head[start..<(start + marker.count)].elementsEqual(marker) { return true }
        }
        return false
    }
}
