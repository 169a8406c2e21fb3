import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import NIOCore

extension RoutingRequest {
    /// Describes a chat completion for the planner: its estimated prompt tokens, output limit,
    /// capabilities, privacy (the client's wish, or personal data found in its messages) and the
    /// client's overrides.
    ///
    /// - Parameters:
    ///   - chat: The validated request.
    ///   - overrides: The client's routing headers and `multiprodigy` field.
    ///   - detectsPII: `privacy.detect_pii`: scan the messages (text, tool arguments and tool
    ///     results) for personal data and secrets.
    ///
    /// - Parameter nativeBody: For a Responses or Messages request, the body a native target would
    ///   get: personal data is looked for in it rather than in the chat translation, which leaves
    ///   out what chat cannot hold (documents, thinking, tool results, …), and the prompt is
    ///   estimated at no less than its prose.
    public init(chat: ChatCompletionRequest, overrides: RoutingOverrides, detectsPII: Bool, nativeBody: ByteBuffer? = nil) {
        var request = chat.body.withUnsafeReadableBytes { bytes in
            var request = RoutingRequest(
                promptTokens: TokenEstimator.estimatePromptTokens(of: chat),
                maxOutputTokens: ChatPromptScan.maxOutputTokens(of: chat, in: bytes),
                choiceCount: chat.choiceCount,
                requiredCapabilities: ChatPromptScan.requestedCapabilities(of: chat, in: bytes),
                isStreaming: chat.isStreaming
            )
            // One walk over the messages finds images and, unless the client already asked to stay
            // local, personal data.
            let scansText = detectsPII && overrides.privateReason == nil && nativeBody == nil
            let detector = PIIDetector()
            var finding: PIIKind?
            ChatPromptScan.forEachPart(of: chat, in: bytes) { part in
                switch part {
                case .image:
                    request.requiredCapabilities.insert(.vision)
                case .text(let range):
                    guard scansText, finding == nil else { return }
                    finding = Self.personalData(inStringContents: range, of: bytes, detector: detector)
                }
            }
            if let finding { request.privateReason = "pii:\(finding.rawValue)" }
            return request
        }
        if let nativeBody {
            // What a native target would read: content the chat translation leaves out counts too.
            let prose = Self.prose(ofNativeBody: nativeBody, detectsPII: detectsPII && overrides.privateReason == nil)
            request.promptTokens = max(request.promptTokens, prose.tokens)
            if let finding = prose.personalData { request.privateReason = "pii:\(finding.rawValue)" }
        }
        request.apply(overrides)
        self = request
    }

    /// Describes an embeddings request: its estimated tokens and, when `detectsPII`, whether its
    /// inputs carry personal data; capabilities do not apply.
    public init(embeddings: EmbeddingsRequest, overrides: RoutingOverrides, detectsPII: Bool) {
        var tokens = 0
        var finding: PIIKind?
        let detector = PIIDetector()
        for input in embeddings.inputs {
            switch input {
            case .tokens(let ids):
                tokens += ids.count
            case .text(var text):
                text.withUTF8 { utf8 in
                    let bytes = UnsafeRawBufferPointer(utf8)
                    tokens += TokenEstimator.estimateTokens(inText: bytes)
                    if detectsPII, finding == nil { finding = detector.firstFinding(in: bytes) }
                }
            }
        }
        self.init(promptTokens: tokens)
        if overrides.privateReason == nil, let finding { privateReason = "pii:\(finding.rawValue)" }
        apply(overrides)
    }

    /// The personal data in a JSON string's raw contents. The detector reads escapes as separators;
    /// a string with `\/` or `\u` escapes (PHP's and Python's encoders write them) is decoded first,
    /// so `wJalr\/K7MDENG` reads as the secret it is.
    static func personalData(inStringContents range: Range<Int>, of bytes: UnsafeRawBufferPointer, detector: PIIDetector) -> PIIKind? {
        let contents = UnsafeRawBufferPointer(rebasing: bytes[range])
        var hasMeaningfulEscape = false
        var index = contents.startIndex
        while index < contents.endIndex - 1 {
            if contents[index] == UInt8(ascii: "\\") {
                let next = contents[index + 1]
                if next == UInt8(ascii: "/") || next == UInt8(ascii: "u") {
                    hasMeaningfulEscape = true
                    break
                }
                index += 2
            } else {
                index += 1
            }
        }
        guard hasMeaningfulEscape, range.lowerBound > 0, range.upperBound < bytes.count else {
            return detector.firstFinding(in: contents)
        }
        var decoded = JSONScanner.decodeString(at: (range.lowerBound - 1)..<(range.upperBound + 1), in: bytes)
        return decoded.withUTF8 { detector.firstFinding(in: UnsafeRawBufferPointer($0)) }
    }

    /// Takes the client's policy, limits and privacy wish.
    public mutating func apply(_ overrides: RoutingOverrides) {
        policyOverride = overrides.policy ?? policyOverride
        maxCostUSD = overrides.maxCostUSD ?? maxCostUSD
        maxLatency = overrides.maxLatency ?? maxLatency
        privateReason = overrides.privateReason ?? privateReason
    }
}
