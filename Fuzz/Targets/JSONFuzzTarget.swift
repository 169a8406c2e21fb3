import Foundation
import MultiProdigyJSON
import NIOCore

/// The JSON scanner and value parser against Foundation's parser, and the writer against the parser.
///
/// Properties, on any bytes:
/// - the scanner accepts exactly what `JSONSerialization` accepts (fragments allowed), except nesting
///   deeper than ``JSONScanner/maximumDepth``, which only the scanner refuses;
/// - ``JSONScanner/topLevelMembers(of:)`` accepts exactly the documents ``JSONScanner/rootValue(of:)``
///   accepts whose root is an object, with one member per key occurrence;
/// - a parsed value written by ``JSONValue/write(into:)`` parses back to the same value.
enum JSONFuzzTarget {
    static let summary = "JSONScanner and JSONValue agree with Foundation on validity; values survive write and parse"

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        let root = try? JSONScanner.rootValue(of: bytes)
        let foundation = (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
        if root != nil {
            try FuzzViolation.require(foundation, "the scanner accepted a document Foundation refuses")
        } else if foundation {
            try FuzzViolation.require(
                nestingDepth(of: bytes) > JSONScanner.maximumDepth,
                "the scanner refused a document Foundation accepts (not for its depth)"
            )
        }

        let members = try? JSONScanner.topLevelMembers(of: bytes)
        try FuzzViolation.require(
            (members != nil) == (root?.kind == .object),
            "topLevelMembers and rootValue disagree on an object root"
        )

        guard root != nil else { return }
        let value: JSONValue
        do {
            value = try JSONValue.parse(ByteBuffer(bytes: bytes))
        } catch {
            throw FuzzViolation("JSONValue.parse refused a document the scanner accepted: \(error)")
        }
        let written = value.buffer
        let reparsed = try? JSONValue.parse(written)
        try FuzzViolation.require(reparsed == value, "a value written and parsed again changed: \(String(buffer: written))")
    }

    /// The deepest nesting of brackets outside strings (an upper bound on the document's depth).
    static func nestingDepth(of bytes: UnsafeRawBufferPointer) -> Int {
        var depth = 0
        var deepest = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }
}
