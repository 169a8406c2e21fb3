import NIOCore

/// Rebuilds a JSON object by copying its members' original bytes, replacing or dropping some.
///
/// Values the gateway does not touch are copied byte for byte, so numbers keep their precision and
/// fields the gateway has never heard of reach the other side unchanged. The output is sized in a
/// first pass over the members and written in a second, into one buffer.
public enum JSONObjectRewriter {
    /// Returns the object `members` describe, with `replacements` applied and `removals` dropped.
    ///
    /// - Parameters:
    ///   - source: The document the members were scanned from (offsets relative to its reader index).
    ///   - members: The object's members, as ``JSONScanner`` returned them.
    ///   - replacements: Keys whose value is replaced by the given JSON bytes; a key not present is
    ///     appended. At most 64.
    ///   - removals: Keys whose member is dropped.
    public static func rewrite(
        _ source: ByteBuffer,
        members: [JSONMember],
        replacing replacements: [(key: String, value: ByteBuffer)],
        removing removals: [String] = []
    ) -> ByteBuffer {
        precondition(replacements.count <= 64, "JSONObjectRewriter: at most 64 replacements")
        func replacement(for member: JSONMember) -> Int? {
            replacements.isEmpty ? nil : replacements.firstIndex { $0.key == member.key }
        }
        func isRemoved(_ member: JSONMember) -> Bool {
            !removals.isEmpty && removals.contains(member.key)
        }

        // Sizing: every kept member, its replacement, the appended keys, commas and braces.
        var replaced: UInt64 = 0
        var capacity = 2
        for member in members where !isRemoved(member) {
            capacity += 1
            if let index = replacement(for: member) {
                replaced |= 1 << index
                capacity += member.value.lowerBound - member.keyStart + replacements[index].value.readableBytes
            } else {
                capacity += member.value.upperBound - member.keyStart
            }
        }
        for (index, appended) in replacements.enumerated() where replaced & (1 << index) == 0 {
            capacity += 2 + JSONWriter.maximumEncodedLength(of: appended.key) + appended.value.readableBytes
        }

        var output = ByteBufferAllocator().buffer(capacity: capacity)
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { buffer in
            var writer = UnsafeByteWriter(buffer)
            writer.append(UInt8(ascii: "{"))
            var first = true
            func separate() {
                if !first { writer.append(UInt8(ascii: ",")) }
                first = false
            }
            source.withUnsafeReadableBytes { document in
                for member in members where !isRemoved(member) {
                    separate()
                    if let index = replacement(for: member) {
                        writer.append(UnsafeRawBufferPointer(rebasing: document[member.keyStart..<member.value.lowerBound]))
                        replacements[index].value.withUnsafeReadableBytes { writer.append($0) }
                    } else {
                        writer.append(UnsafeRawBufferPointer(rebasing: document[member.keyStart..<member.value.upperBound]))
                    }
                }
            }
            for (index, appended) in replacements.enumerated() where replaced & (1 << index) == 0 {
                separate()
                JSONWriter.appendString(appended.key, to: &writer)
                writer.append(UInt8(ascii: ":"))
                appended.value.withUnsafeReadableBytes { writer.append($0) }
            }
            writer.append(UInt8(ascii: "}"))
            return writer.count
        }
        return output
    }
}
