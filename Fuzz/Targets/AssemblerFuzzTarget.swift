// `@testable` imports need a debug build (`-enable-testing`); a release build of the package skips this target.
#if DEBUG
import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// `ChatCompletionAssembler` on any stream of chunks: what a non-streaming request's answer is built
/// from when the gateway asked the upstream for a stream.
///
/// The input is the stream's `data:` payloads, one per line. Properties, on any lines: a line is
/// refused with a ``JSONSyntaxError`` exactly when it is not JSON, and the rest still assemble; the
/// weight of the answer held (`answerBytes`, what `server.max_response_bytes` bounds) never goes
/// down; the answer is a JSON `chat.completion` whose every choice has an `index`, a `message` with
/// a `role`, and a `finish_reason`; and the answer written out is bounded by its weight: at most 8
/// bytes per unit of `answerBytes` (JSON escapes a byte in at most six, and a `null`, `true` or
/// `false` weighing 1 writes five at most), plus the fields kept as the latest chunk sent them and
/// not weighed (`id`, `created`, `model`, `usage`, `system_fingerprint`, `service_tier`: each at
/// most one line), plus 512 bytes for the answer's own frame.
enum AssemblerFuzzTarget {
    static let summary =
        "ChatCompletionAssembler gives a chat.completion, its held weight never falls, and the answer written is bounded by it"

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        var assembler = ChatCompletionAssembler()
        var weight = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let isJSON = (try? JSONValue.parse(ByteBuffer(bytes: line))) != nil
            do {
                try assembler.add(ByteBuffer(bytes: line))
                try FuzzViolation.require(isJSON, "a line that is not JSON was taken: \(line.count) bytes")
            } catch let error as FuzzViolation {
                throw error
            } catch {
                // Not JSON: refused, and what came before is kept.
                try FuzzViolation.require(!isJSON, "a JSON line was refused: \(error)")
            }
            try FuzzViolation.require(
                assembler.answerBytes >= weight,
                "the answer's weight fell from \(weight) to \(assembler.answerBytes)"
            )
            weight = assembler.answerBytes
        }
        let answer = assembler.completion()
        let written = answer.buffer
        guard let reparsed = try? JSONValue.parse(written) else {
            throw FuzzViolation("the assembled answer does not parse: \(String(buffer: written))")
        }
        try FuzzViolation.require(
            reparsed["object"] == "chat.completion",
            "the assembled answer is not a chat.completion: \(String(buffer: written))"
        )
        guard let choices = reparsed["choices"]?.arrayValue else {
            throw FuzzViolation("the assembled answer has no choices array: \(String(buffer: written))")
        }
        for choice in choices {
            try FuzzViolation.require(
                choice["index"]?.intValue != nil && choice["message"]?["role"]?.stringValue != nil
                    && choice["finish_reason"] != nil,
                "a choice lacks its index, its message's role or its finish_reason: \(choice.buffer.readableBytes) bytes"
            )
        }
        var latest = 0
        for field in ["id", "created", "model", "usage", "system_fingerprint", "service_tier"] {
            // `"name":value,`
            if let value = reparsed[field] { latest += field.utf8.count + 4 + value.buffer.readableBytes }
        }
        let bound = 8 * assembler.answerBytes + latest + 512
        try FuzzViolation.require(
            written.readableBytes <= bound,
            "the answer written is \(written.readableBytes) bytes for a weight of \(assembler.answerBytes) and \(latest) bytes of fields kept as they came: more than \(bound)"
        )
    }
}
#endif
