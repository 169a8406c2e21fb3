import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

extension TokenUsage {
    /// The usage an OpenAI `usage` object reports; nil when it is not an object or lacks the counts.
    static func read(_ object: ByteBuffer) -> TokenUsage? {
        object.withUnsafeReadableBytes { bytes -> TokenUsage? in
            guard let fields = try? JSONScanner.topLevelMembers(of: bytes) else { return nil }
            return read(fields: fields, in: bytes)
        }
    }
}
