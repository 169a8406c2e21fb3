/// Appends bytes into memory sized for them beforehand, such as the closure of
/// `ByteBuffer.writeWithUnsafeMutableBytes`: one buffer write for a whole line or head, where each
/// `ByteBuffer.writeString` has a fixed cost of its own.
///
/// The caller guarantees the room: appending past the end of `output` is a programming error.
package struct UnsafeByteWriter {
    /// The memory written to.
    package let output: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    package private(set) var count = 0

    /// Starts writing at the start of `output`.
    package init(_ output: UnsafeMutableRawBufferPointer) {
        self.output = output
    }

    /// Appends `text`'s UTF-8.
    package mutating func append(_ text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
        if copied == nil {
            for byte in text.utf8 { append(byte) }
        }
    }

    /// Appends one byte.
    package mutating func append(_ byte: UInt8) {
        precondition(count < output.count, "UnsafeByteWriter: no room left")
        output[count] = byte
        count += 1
    }

    /// Appends `bytes`.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(count + bytes.count <= output.count, "UnsafeByteWriter: no room left")
        (output.baseAddress! + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    /// Takes the next `length` bytes for the caller to fill.
    mutating func claim(_ length: Int) -> UnsafeMutableRawBufferPointer {
        precondition(count + length <= output.count, "UnsafeByteWriter: no room left")
        defer { count += length }
        return UnsafeMutableRawBufferPointer(rebasing: output[count..<(count + length)])
    }

    /// Appends `value` in decimal, without making a `String`.
    package mutating func appendDecimal(_ value: Int) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        withUnsafeMutableBytes(of: &digits) { scratch in
            var index = scratch.count
            repeat {
                index -= 1
                scratch[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            append(UnsafeRawBufferPointer(rebasing: scratch[index...]))
        }
    }

    /// The most bytes ``appendDecimal(_:)`` writes: a sign and twenty digits.
    package static let maximumDecimalLength = 21
}
