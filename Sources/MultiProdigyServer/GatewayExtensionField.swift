import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// The gateway's own request field (`multiprodigy`: routing overrides) carried from a front-door
/// body into its translation, so that every API takes the same overrides as chat.
enum GatewayExtensionField {
    /// The chat request that `translated` (a front-door body's translation) makes, with the
    /// `multiprodigy` member of the client's `original` body.
    ///
    /// - Throws: chat's validation error, which a correct translation never meets.
    static func chatRequest(translated: ByteBuffer, from original: ByteBuffer) throws(GatewayError) -> ChatCompletionRequest {
        try ChatCompletionRequest.parse(carried(from: original, into: translated))
    }

    /// `translated` with the `multiprodigy` member of `original`, when it has one.
    static func carried(from original: ByteBuffer, into translated: ByteBuffer) -> ByteBuffer {
        let field: ByteBuffer? = original.withUnsafeReadableBytes { bytes in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes),
                let member = members.first(where: { $0.key == ChatCompletionRequest.extensionField })
            else { return nil }
            return original.getSlice(at: original.readerIndex + member.value.lowerBound, length: member.value.count)
        }
        guard let field else { return translated }
        let members = translated.withUnsafeReadableBytes { (try? JSONScanner.topLevelMembers(of: $0)) ?? [] }
        return JSONObjectRewriter.rewrite(
            translated,
            members: members,
            replacing: [(key: ChatCompletionRequest.extensionField, value: field)]
        )
    }
}
