import MultiProdigyProviders
import NIOCore
import Testing

/// NDJSON framing: lines whatever the reads, blank lines skipped, CRLF, the unterminated end.
@Suite struct JSONLineFramerTests {
    /// The lines `reads` make, then the end.
    static func lines(_ reads: [String]) throws -> [String] {
        var framer = JSONLineFramer()
        var units: [ByteBuffer] = []
        for read in reads { try framer.feed(ByteBuffer(string: read), into: &units) }
        if let last = framer.finish() { units.append(last) }
        return units.map { String(buffer: $0) }
    }

    @Test func linesAreTheSameWhateverTheReads() throws {
        let stream = "{\"a\":1}\r\n \t\n{\"b\":2}\n\n{\"c\":3}"
        let whole = try Self.lines([stream])
        #expect(whole == ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"])
        #expect(try Self.lines(stream.map { String($0) }) == whole)
        #expect(try Self.lines(["{\"a\":1}\r", "\n{\"b\"", ":2}\n\n{\"c\":3}"]) == whole)
    }

    @Test func aLongLineReadByteByByteIsOneLine() throws {
        let line = "{\"text\":\"" + String(repeating: "x", count: 20_000) + "\"}"
        var framer = JSONLineFramer()
        var units: [ByteBuffer] = []
        for byte in line.utf8 { try framer.feed(ByteBuffer(bytes: [byte]), into: &units) }
        #expect(units.isEmpty)
        try framer.feed(ByteBuffer(string: "\n{}\n"), into: &units)
        #expect(units.map { String(buffer: $0) } == [line, "{}"])
    }

    @Test func aBlankLastLineIsNoLine() throws {
        #expect(try Self.lines(["{}\n", " \r"]) == ["{}"])
    }
}
