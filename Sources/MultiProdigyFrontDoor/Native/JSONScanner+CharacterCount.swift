import MultiProdigyJSON

extension JSONScanner {
    /// The characters (Unicode scalars) of the JSON string at `range`, quotes included, counted on
    /// its bytes without decoding it.
    ///
    /// Used to estimate an answer's tokens when the upstream reports none, on every streamed delta:
    /// decoding each one into a `String` would allocate for a number. An escape counts as one
    /// character (a surrogate pair as two: close enough for an estimate), and a UTF-8 sequence as one.
    static func characterCount(ofStringAt range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> Int {
        var count = 0
        var index = range.lowerBound + 1
        let end = range.upperBound - 1
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                index += index + 1 < end && bytes[index + 1] == UInt8(ascii: "u") ? 6 : 2
                count += 1
            } else {
                // Continuation bytes (10xxxxxx) belong to the character their lead byte counted.
                if byte & 0xC0 != 0x80 { count += 1 }
                index += 1
            }
        }
        return count
    }

    /// The characters of the string member `key` of `members` (its last occurrence); 0 when there is
    /// no such string.
    static func characterCount(ofString key: String, in members: [JSONMember], bytes: UnsafeRawBufferPointer) -> Int {
        guard let member = members.last(where: { $0.key == key && $0.kind == .string }) else { return 0 }
        return characterCount(ofStringAt: member.value, in: bytes)
    }
}
