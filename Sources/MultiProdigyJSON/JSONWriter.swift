import NIOCore

/// Writes JSON fragments straight into a `ByteBuffer` (or an ``UnsafeByteWriter``), with no
/// intermediate `Data`.
///
/// A string is measured first and then copied in one pass: runs without characters to escape are
/// copied whole, and the buffer is written to once.
public enum JSONWriter {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    /// Writes `value` as a quoted, escaped JSON string.
    public static func writeString(_ value: String, into buffer: inout ByteBuffer) {
        var value = value
        value.withUTF8 { source in
            let length = escapedLength(of: source)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { output in
                writeEscaped(source, length: length, into: output)
            }
        }
    }

    /// Appends `value` to `writer` as a quoted, escaped JSON string; it needs at most
    /// ``maximumEncodedLength(of:)`` bytes of room.
    package static func appendString(_ value: String, to writer: inout UnsafeByteWriter) {
        var value = value
        value.withUTF8 { source in
            let length = escapedLength(of: source)
            _ = writeEscaped(source, length: length, into: writer.claim(length))
        }
    }

    /// The most bytes `value` takes as a JSON string literal: every byte escaped as `\u00XX`.
    package static func maximumEncodedLength(of value: String) -> Int {
        value.utf8.count * 6 + 2
    }

    /// Writes `value` as a JSON string, or `null` when it is nil.
    public static func writeOptionalString(_ value: String?, into buffer: inout ByteBuffer) {
        if let value {
            writeString(value, into: &buffer)
        } else {
            buffer.writeStaticString("null")
        }
    }

    /// Returns `value` encoded as a JSON string literal.
    public static func encodedString(_ value: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        writeString(value, into: &buffer)
        return buffer
    }

    /// The length of `source` as a JSON string literal, quotes included.
    private static func escapedLength(of source: UnsafeBufferPointer<UInt8>) -> Int {
        var length = source.count + 2
        for byte in source where byte == quote || byte == backslash || byte < 0x20 {
            switch byte {
            case quote, backslash, 0x0A, 0x0D, 0x09: length += 1
            default: length += 5
            }
        }
        return length
    }

    /// Writes `source` as a JSON string literal of `length` bytes at the start of `output`; returns `length`.
    private static func writeEscaped(_ source: UnsafeBufferPointer<UInt8>, length: Int, into output: UnsafeMutableRawBufferPointer) -> Int {
        output[0] = quote
        var offset = 1
        if length == source.count + 2 {
            if let base = source.baseAddress { (output.baseAddress! + 1).copyMemory(from: base, byteCount: source.count) }
            offset += source.count
        } else {
            for byte in source {
                switch byte {
                case quote, backslash:
                    output[offset] = backslash
                    output[offset + 1] = byte
                    offset += 2
                case 0x0A, 0x0D, 0x09:
                    output[offset] = backslash
                    output[offset + 1] = byte == 0x0A ? UInt8(ascii: "n") : byte == 0x0D ? UInt8(ascii: "r") : UInt8(ascii: "t")
                    offset += 2
                case ..<0x20:
                    for (index, escape) in "\\u00".utf8.enumerated() { output[offset + index] = escape }
                    output[offset + 4] = hexDigits[Int(byte >> 4)]
                    output[offset + 5] = hexDigits[Int(byte & 0x0F)]
                    offset += 6
                default:
                    output[offset] = byte
                    offset += 1
                }
            }
        }
        output[offset] = quote
        return offset + 1
    }
}
