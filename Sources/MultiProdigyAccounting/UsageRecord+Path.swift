import MultiProdigyJSON
import NIOCore

extension UsageRecord {
    /// ``path`` as the ledger's `path` column holds it: the JSON text of an array of strings; nil without one.
    var pathText: String? {
        guard let path, !path.isEmpty else { return nil }
        var buffer = ByteBuffer()
        buffer.writeStaticString("[")
        for (index, step) in path.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            JSONWriter.writeString(step, into: &buffer)
        }
        buffer.writeStaticString("]")
        return String(buffer: buffer)
    }

    /// The steps of a `path` column's text; nil for text that is not a JSON array of strings.
    package static func path(fromText text: String) -> [String]? {
        guard let steps = (try? JSONValue.parse(text))?.arrayValue else { return nil }
        let strings = steps.compactMap(\.stringValue)
        return strings.count == steps.count ? strings : nil
    }
}
