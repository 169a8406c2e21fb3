import MultiProdigyFuzzTargets
import MultiProdigyJSON
import Testing

/// What the fuzz targets found, each held by its minimised input (also in its target's corpus).
@Suite struct FuzzFindingsTests {
    /// Runs `target` on `bytes`. For `framing`, `[0, 0]` first: one piece size of 0, so the stream
    /// after it is read one byte at a time.
    static func check(_ target: String, _ bytes: [UInt8]) throws {
        let target = try #require(FuzzTarget.named(target))
        try bytes.withUnsafeBytes { try target.check($0) }
    }

    /// `framing`: a UTF-8 byte order mark split over reads was taken for the first field's name, so the
    /// stream's first event was lost when the mark's first byte arrived alone.
    @Test func aByteOrderMarkSplitOverReadsIsStillSkipped() throws {
        try Self.check("framing", [0, 0] + [0xEF, 0xBB, 0xBF] + Array("data: x\n\n".utf8))
        var parser = SSEParser()
        var events: [SSEEvent] = []
        for byte in [0xEF, 0xBB, 0xBF] + Array("data: x\n\n".utf8) { parser.feed([byte], into: &events) }
        #expect(events == [SSEEvent(data: Array("x".utf8))])
    }

    /// `framing`: bytes that begin like a byte order mark but are not one stay the first line's.
    @Test func aStreamThatOnlyLooksLikeAByteOrderMarkKeepsItsBytes() throws {
        try Self.check("framing", [0, 0] + [0xEF, 0xBB] + Array("data: y\n\n".utf8) + [0xEF])
        var parser = SSEParser()
        var events: [SSEEvent] = []
        parser.feed([0xEF], into: &events)
        parser.feed(Array("data: z\n\n".utf8), into: &events)
        #expect(events.isEmpty, "the first field's name is \\xEFdata, not data")
        var cut = SSEParser()
        cut.feed([0xEF, 0xBB], into: &events)
        #expect(cut.finish() == nil)
    }
}
