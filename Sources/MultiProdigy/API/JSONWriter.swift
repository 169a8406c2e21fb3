import NIOCore

/// Writes JSON fragments straight into a `ByteBuffer`, with no intermediate `Data` or `String`.
public enum JSONWriter {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes `value` as a quoted, escaped JSON string.
    public static func writeString(_ value: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var pendingStart = value.utf8.startIndex
        let utf8 = value.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                buffer.writeBytes(utf8[pendingStart..<index])
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                default:
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hexDigits[Int(byte >> 4)])
                    buffer.writeInteger(hexDigits[Int(byte & 0x0F)])
                }
                pendingStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        buffer.writeBytes(utf8[pendingStart..<index])
        buffer.writeInteger(UInt8(ascii: "\""))
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
}
