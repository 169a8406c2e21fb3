import MultiProdigyJSON
import NIOCore

/// The JSON scanner and value parser against JSON's grammar, and the writer against the parser.
///
/// Properties, on any bytes:
/// - the scanner accepts exactly what RFC 8259's grammar allows (``ReferenceJSONGrammar``), nested at
///   most ``JSONScanner/maximumDepth`` deep; string contents' UTF-8 and numbers' range are the
///   upstream's to judge, as ``JSONScanner`` says (Foundation's parser was the first oracle, and
///   refuses lone surrogate escapes, numbers beyond `Double` and invalid UTF-8, and on Linux stops
///   reading at a NUL byte);
/// - ``JSONScanner/topLevelMembers(of:)`` accepts exactly the documents ``JSONScanner/rootValue(of:)``
///   accepts whose root is an object;
/// - a parsed value written by ``JSONValue/write(into:)`` parses back to the same value.
enum JSONFuzzTarget {
    static let summary = "JSONScanner accepts exactly JSON's grammar; values survive write and parse"

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        let root = try? JSONScanner.rootValue(of: bytes)
        let reference = ReferenceJSONGrammar.accepts(Array(bytes), maximumDepth: JSONScanner.maximumDepth)
        try FuzzViolation.require(
            (root != nil) == reference,
            root == nil ? "the scanner refused a document JSON's grammar allows" : "the scanner accepted a document JSON's grammar refuses"
        )

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
}
