import NIOCore

/// Rebuilds a JSON object by copying its members' original bytes, replacing or dropping some.
///
/// Values the gateway does not touch are copied byte for byte, so numbers keep their precision and
/// fields the gateway has never heard of reach the other side unchanged.
public enum JSONObjectRewriter {
    /// Returns the object `members` describe, with `replacements` applied and `removals` dropped.
    ///
    /// - Parameters:
    ///   - source: The document the members were scanned from (offsets relative to its reader index).
    ///   - members: The object's members, as ``JSONScanner`` returned them.
    ///   - replacements: Keys whose value is replaced by the given JSON bytes; a key not present is appended.
    ///   - removals: Keys whose member is dropped.
    public static func rewrite(
        _ source: ByteBuffer,
        members: [JSONMember],
        replacing replacements: [(key: String, value: ByteBuffer)],
        removing removals: [String] = []
    ) -> ByteBuffer {
        var output = ByteBuffer()
        output.reserveCapacity(source.readableBytes + 64)
        output.writeInteger(UInt8(ascii: "{"))
        var first = true
        var written = [Bool](repeating: false, count: replacements.count)
        let base = source.readerIndex
        for member in members {
            if removals.contains(member.key) { continue }
            if !first { output.writeInteger(UInt8(ascii: ",")) }
            first = false
            if let index = replacements.firstIndex(where: { $0.key == member.key }) {
                written[index] = true
                var keyBytes = source.getSlice(at: base + member.keyStart, length: member.value.lowerBound - member.keyStart)!
                output.writeBuffer(&keyBytes)
                var value = replacements[index].value
                output.writeBuffer(&value)
            } else {
                var memberBytes = source.getSlice(at: base + member.keyStart, length: member.value.upperBound - member.keyStart)!
                output.writeBuffer(&memberBytes)
            }
        }
        for (index, replacement) in replacements.enumerated() where !written[index] {
            if !first { output.writeInteger(UInt8(ascii: ",")) }
            first = false
            JSONWriter.writeString(replacement.key, into: &output)
            output.writeInteger(UInt8(ascii: ":"))
            var value = replacement.value
            output.writeBuffer(&value)
        }
        output.writeInteger(UInt8(ascii: "}"))
        return output
    }
}
