import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// The object rewriter, alone and as the chat request uses it (model rewrite, extension removal).
///
/// Properties, on any object and any replacement and removal drawn from the input:
/// - the output parses, and is the input's members in order, removed keys dropped, replaced keys
///   holding their replacement, every other member's value byte for byte the input's (numbers keep
///   their text, unknown fields pass unchanged), and replacements for absent keys appended in order;
/// - a chat request's upstream body holds the new model, no `multiprodigy` member, and every other
///   member as the client sent it, and asking for a stream gives a request that parses.
enum RewriterFuzzTarget {
    static let summary = "JSONObjectRewriter and the chat request's upstream body keep every untouched byte"

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        var input = FuzzInput(bytes)
        let mode = input.byte()
        let modelLength = input.choice(of: 24)
        let model = String(decoding: input.take(modelLength), as: UTF8.self)
        let removalPick = input.byte()
        let document = ByteBuffer(bytes: input.rest())
        guard let members = document.withUnsafeReadableBytes({ try? JSONScanner.topLevelMembers(of: $0) }) else { return }

        // The rewriter alone: replace `model` and one member picked by the input, drop another.
        let keys = members.map(\.key)
        var replacements = [(key: "model", value: JSONWriter.encodedString(model))]
        // Each key is replaced once at most (the gateway never names one twice).
        if !keys.isEmpty, mode & 1 == 1, keys[Int(mode >> 1) % keys.count] != "model" {
            replacements.append((key: keys[Int(mode >> 1) % keys.count], value: ByteBuffer(string: "[1,{\"a\":null}]")))
        }
        replacements.append((key: "appended \(mode)", value: ByteBuffer(string: "-0.0e+5")))
        // A key is replaced or removed, never both (the gateway never asks for both).
        let removals = (keys.isEmpty ? ["multiprodigy"] : ["multiprodigy", keys[Int(removalPick) % keys.count]])
            .filter { key in !replacements.contains { $0.key == key } }
        let output = JSONObjectRewriter.rewrite(document, members: members, replacing: replacements, removing: removals)
        try expectRewrite(of: document, members: members, replacing: replacements, removing: removals, gave: output)

        // As the chat request uses it.
        guard let request = try? ChatCompletionRequest.parse(document) else { return }
        let requestingUsage = mode & 0x80 == 0
        let upstream = request.upstreamBody(model: model, requestingUsage: requestingUsage)
        guard let upstreamMembers = upstream.withUnsafeReadableBytes({ try? JSONScanner.topLevelMembers(of: $0) }) else {
            throw FuzzViolation("a chat request's upstream body does not parse: \(String(buffer: upstream))")
        }
        try FuzzViolation.require(!upstreamMembers.contains { $0.key == "multiprodigy" }, "the upstream body kept the extension field")
        let modelValues = upstreamMembers.filter { $0.key == "model" }.map { text(of: $0.value, in: upstream) }
        try FuzzViolation.require(
            !modelValues.isEmpty && modelValues.allSatisfy { $0 == JSONWriter.encodedString(model) },
            "the upstream body's model is not the one asked for"
        )
        for member in members where !["model", "multiprodigy", "stream_options"].contains(member.key) {
            let original = text(of: member.value, in: document)
            try FuzzViolation.require(
                upstreamMembers.contains { $0.key == member.key && text(of: $0.value, in: upstream) == original },
                "the upstream body changed the client's '\(member.key)'"
            )
        }
        do {
            _ = try request.askingForStream()
        } catch {
            throw FuzzViolation("asking for a stream gave a request that does not parse: \(error.message)")
        }
    }

    /// Throws unless `output` is `document` rewritten as ``JSONObjectRewriter`` promises.
    static func expectRewrite(
        of document: ByteBuffer,
        members: [JSONMember],
        replacing replacements: [(key: String, value: ByteBuffer)],
        removing removals: [String],
        gave output: ByteBuffer
    ) throws(FuzzViolation) {
        guard let written = output.withUnsafeReadableBytes({ try? JSONScanner.topLevelMembers(of: $0) }) else {
            throw FuzzViolation("the rewritten object does not parse: \(String(buffer: output))")
        }
        var expected: [(key: String, value: ByteBuffer)] = []
        for member in members where !removals.contains(member.key) {
            let replacement = replacements.first { $0.key == member.key }?.value
            expected.append((member.key, replacement ?? text(of: member.value, in: document)))
        }
        for replacement in replacements where !members.contains(where: { $0.key == replacement.key }) {
            expected.append(replacement)
        }
        try FuzzViolation.require(
            written.count == expected.count,
            "the rewritten object has \(written.count) members where \(expected.count) were expected"
        )
        for (member, wanted) in zip(written, expected) {
            try FuzzViolation.require(member.key == wanted.key, "the rewritten object has '\(member.key)' where '\(wanted.key)' belongs")
            try FuzzViolation.require(
                text(of: member.value, in: output) == wanted.value,
                "the rewritten object's '\(member.key)' is not byte for byte what it should be"
            )
        }
    }

    /// The bytes of `range` in `buffer`'s readable bytes.
    static func text(of range: Range<Int>, in buffer: ByteBuffer) -> ByteBuffer {
        buffer.getSlice(at: buffer.readerIndex + range.lowerBound, length: range.count) ?? ByteBuffer()
    }
}
