import NIOCore

/// Rebuilds a JSON object by copying its members' original bytes, replacing or dropping some.
///
/// Values the gateway does not touch are copied byte for byte, so numbers keep their precision and
/// fields the gateway has never heard of reach the other side unchanged. The output is sized first
/// and written in one pass.
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
        // Which replacement each member takes (nil: copied as is), and the keys to append.
        var kept: [(member: JSONMember, replacement: Int?)] = []
        kept.reserveCapacity(members.count)
        var written = [Bool](repeating: false, count: replacements.count)
        for member in members where !removals.contains(member.key) {
            let index = replacements.firstIndex { $0.key == member.key }
            if let index { written[index] = true }
            kept.append((member, index))
        }
        var appendedKeys: [(key: ByteBuffer, value: Int)] = []
        for (index, replacement) in replacements.enumerated() where !written[index] {
            appendedKeys.append((JSONWriter.encodedString(replacement.key), index))
        }

        var capacity = 2 + kept.count + appendedKeys.count
        for (member, replacement) in kept {
            capacity +=
                replacement.map { member.value.lowerBound - member.keyStart + replacements[$0].value.readableBytes }
                ?? member.value.upperBound - member.keyStart
        }
        for (key, index) in appendedKeys { capacity += key.readableBytes + 1 + replacements[index].value.readableBytes }

        var output = ByteBuffer()
        output.reserveCapacity(capacity)
        _ = source.withUnsafeReadableBytes { document in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { buffer in
                var out = Output(buffer: buffer)
                out.append(UInt8(ascii: "{"))
                var first = true
                for (member, replacement) in kept {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    if let replacement {
                        out.append(UnsafeRawBufferPointer(rebasing: document[member.keyStart..<member.value.lowerBound]))
                        replacements[replacement].value.withUnsafeReadableBytes { out.append($0) }
                    } else {
                        out.append(UnsafeRawBufferPointer(rebasing: document[member.keyStart..<member.value.upperBound]))
                    }
                }
                for (key, index) in appendedKeys {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    key.withUnsafeReadableBytes { out.append($0) }
                    out.append(UInt8(ascii: ":"))
                    replacements[index].value.withUnsafeReadableBytes { out.append($0) }
                }
                out.append(UInt8(ascii: "}"))
                return out.offset
            }
        }
        return output
    }

    /// Copies bytes into a buffer sized for them.
    private struct Output {
        let buffer: UnsafeMutableRawBufferPointer
        var offset = 0

        mutating func append(_ byte: UInt8) {
            buffer[offset] = byte
            offset += 1
        }

        mutating func append(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            (buffer.baseAddress! + offset).copyMemory(from: base, byteCount: bytes.count)
            offset += bytes.count
        }
    }
}
