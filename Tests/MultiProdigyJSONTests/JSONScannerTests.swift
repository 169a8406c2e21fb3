import NIOCore
import Testing

@testable import MultiProdigyJSON

@Suite struct JSONScannerTests {
    private func members(_ json: String) throws -> [JSONMember] {
        let bytes = Array(json.utf8)
        return try bytes.withUnsafeBytes { buffer in try JSONScanner.topLevelMembers(of: buffer) }
    }

    @Test func topLevelMembersAreLocatedWithKindsAndRanges() throws {
        let json = #"{"a": 1, "b" :"two","c":[1,{"x":null}],"d":{"e":true},"f":false,"g":null,"h":-1.5e+3}"#
        let found = try members(json)
        #expect(found.map(\.key) == ["a", "b", "c", "d", "f", "g", "h"])
        #expect(found.map(\.kind) == [.number, .string, .array, .object, .bool, .null, .number])
        let bytes = Array(json.utf8)
        #expect(String(decoding: bytes[found[2].value], as: UTF8.self) == #"[1,{"x":null}]"#)
        #expect(String(decoding: bytes[found[6].value], as: UTF8.self) == "-1.5e+3")
    }

    @Test(arguments: [
        "", "   ", "[]", "\"s\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1 \"b\":2}", "{\"a\":tru}",
        "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":\"unterminated}", "{\"a\":\"bad \\x escape\"}",
        "{\"a\":\"\\u12G4\"}", "{\"a\":\"raw\u{01}control\"}", "{} trailing", "{a:1}", "{\"a\":[1,2}",
    ])
    func invalidDocumentsAreRejected(_ json: String) {
        #expect(throws: JSONSyntaxError.self) { try members(json) }
    }

    @Test func nestingDeeperThanTheLimitIsRejected() {
        let deep = "{\"a\":" + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}"
        #expect(throws: JSONSyntaxError.self) { try members(deep) }
        let fine = "{\"a\":" + String(repeating: "[", count: 50) + String(repeating: "]", count: 50) + "}"
        #expect(throws: Never.self) { try members(fine) }
    }

    @Test func escapedKeysAndStringsAreDecoded() throws {
        let json = #"{"k\"ey":"line\nnext \u00e9 \ud83d\ude00 \/ \\"}"#
        let found = try members(json)
        #expect(found.first?.key == "k\"ey")
        let bytes = Array(json.utf8)
        let value = bytes.withUnsafeBytes { JSONScanner.decodeString(at: found[0].value, in: $0) }
        #expect(value == "line\nnext é 😀 / \\")
    }

    @Test func integersAreToldFromFractions() throws {
        let json = #"{"a":12,"b":1.0,"c":1e3,"d":-7}"#
        let found = try members(json)
        let bytes = Array(json.utf8)
        let integral = bytes.withUnsafeBytes { buffer in found.map { JSONScanner.isInteger(at: $0.value, in: buffer) } }
        #expect(integral == [true, false, false, true])
    }

    @Test func rewriterReplacesRemovesAndKeepsEverythingElseByteForByte() throws {
        let json = #"{"model":"auto","n":12345678901234567890,"multiprodigy":{"x":1},"z":[1.50, "é"]}"#
        let buffer = ByteBuffer(string: json)
        let found = try members(json)
        let rewritten = JSONObjectRewriter.rewrite(
            buffer,
            members: found,
            replacing: [(key: "model", value: JSONWriter.encodedString("up\"stream"))],
            removing: ["multiprodigy"]
        )
        #expect(String(buffer: rewritten) == #"{"model":"up\"stream","n":12345678901234567890,"z":[1.50, "é"]}"#)
    }

    @Test func rewriterAppendsAMissingKey() throws {
        let json = #"{"a":1}"#
        let rewritten = JSONObjectRewriter.rewrite(
            ByteBuffer(string: json),
            members: try members(json),
            replacing: [(key: "model", value: JSONWriter.encodedString("m"))]
        )
        #expect(String(buffer: rewritten) == #"{"a":1,"model":"m"}"#)
    }

    @Test func writerEscapesControlCharactersAndQuotes() {
        #expect(String(buffer: JSONWriter.encodedString("a\"b\\c\nd\u{01}")) == #""a\"b\\c\nd\u0001""#)
    }

    @Test(arguments: [
        ("", #""""#),
        ("plain", #""plain""#),
        ("tab\tcr\r\u{1F}", #""tab\tcr\r\u001f""#),
        ("\"", #""\"""#),
        ("日本語 é 🚀", #""日本語 é 🚀""#),
        ("\u{7F}/", "\"\u{7F}/\""),
    ])
    func bufferWriterAndByteWriterAgree(_ text: String, _ expected: String) {
        var buffer = ByteBuffer(string: "x")
        JSONWriter.writeString(text, into: &buffer)
        #expect(String(buffer: buffer) == "x" + expected)
        var bytes = [UInt8](repeating: 0, count: 1 + JSONWriter.maximumEncodedLength(of: text))
        let count = bytes.withUnsafeMutableBytes { output in
            var writer = UnsafeByteWriter(output)
            writer.append("x")
            JSONWriter.appendString(text, to: &writer)
            return writer.count
        }
        #expect(String(decoding: bytes[..<count], as: UTF8.self) == "x" + expected)
    }

    @Test func rewriterDropsEveryMemberAndAppendsAnEscapedKey() throws {
        let json = #"{ "a" : 1 , "b":{"c":[]} }"#
        let rewritten = JSONObjectRewriter.rewrite(
            ByteBuffer(string: json),
            members: try members(json),
            replacing: [(key: "new\"key", value: ByteBuffer(string: "true"))],
            removing: ["a", "b"]
        )
        #expect(String(buffer: rewritten) == #"{"new\"key":true}"#)
        let kept = JSONObjectRewriter.rewrite(ByteBuffer(string: json), members: try members(json), replacing: [])
        #expect(String(buffer: kept) == #"{"a" : 1,"b":{"c":[]}}"#)
    }

    @Test func theEightByteStringScanStopsExactlyAtQuotesBackslashesAndControlCharacters() {
        func word(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }
        let plain: [UInt8] = Array("abcdefgh".utf8)
        #expect(!JSONScanner.Cursor.mayEndOrEscape(word(plain)))
        #expect(!JSONScanner.Cursor.mayEndOrEscape(word(Array("é 🚀 ~".utf8).prefix(8).map { $0 })))
        #expect(!JSONScanner.Cursor.mayEndOrEscape(word([0x20, 0x7F, 0x80, 0xFF, 0x21, 0x23, 0x5B, 0x5D])))
        for special: UInt8 in [0x22, 0x5C, 0x00, 0x0A, 0x1F] {
            for index in 0..<8 {
                var bytes = plain
                bytes[index] = special
                #expect(JSONScanner.Cursor.mayEndOrEscape(word(bytes)), "byte \(special) at \(index)")
            }
        }
    }

    @Test func theFirstStopByteIsFoundExactlyWhateverFollowsIt() {
        func word(_ bytes: [UInt8]) -> UInt64 {
            UInt64(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        }
        func isStop(_ byte: UInt8) -> Bool { byte == 0x22 || byte == 0x5C || byte < 0x20 }
        #expect(JSONScanner.Cursor.firstStopByte(in: word(Array("abcdefgh".utf8))) == nil)
        // Every stop byte at every index, with every kind of byte (including stop bytes and bytes
        // with the high bit set, which upset naive borrow tricks) after it and plain bytes before.
        let followers: [UInt8] = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xA2, 0xDC, 0xFF]
        for stop: UInt8 in [0x22, 0x5C, 0x00, 0x01, 0x0A, 0x1F] {
            for index in 0..<8 {
                for follower in followers {
                    var bytes = Array("abcdefgh".utf8)
                    bytes[index] = stop
                    for later in (index + 1)..<8 { bytes[later] = follower }
                    #expect(
                        JSONScanner.Cursor.firstStopByte(in: word(bytes)) == index,
                        "stop \(stop) at \(index), then \(follower)"
                    )
                }
            }
        }
        // Plain bytes of every value before the stop byte never move it earlier.
        for plain in UInt8.min...UInt8.max where !isStop(plain) {
            let bytes: [UInt8] = [plain, plain, plain, 0x22, plain, 0x5C, plain, 0x00]
            #expect(JSONScanner.Cursor.firstStopByte(in: word(bytes)) == 3, "plain \(plain)")
        }
    }

    @Test func longStringsWithEscapesAnywhereScanAsOneValue() throws {
        // Escapes and the closing quote at every offset of the eight-byte steps.
        for offset in 0..<17 {
            let text = String(repeating: "x", count: offset) + #"\"y\\z\u00e9"# + String(repeating: "w", count: offset)
            let json = #"{"k":""# + text + #"","n":1}"#
            let found = try members(json)
            #expect(found.map(\.key) == ["k", "n"], "offset \(offset)")
        }
        let unterminated = #"{"k":""# + String(repeating: "a", count: 40)
        #expect(throws: JSONSyntaxError.self) { try members(unterminated) }
        let control = #"{"k":""# + String(repeating: "a", count: 20) + "\u{01}" + #""}"#
        #expect(throws: JSONSyntaxError.self) { try members(control) }
    }

    @Test func duplicateKeysAreFoundInSmallAndLargeObjects() throws {
        for count in [2, 16, 17, 500] {
            let unique = "{" + (0..<count).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
            let repeated = "{" + (0..<count).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"k\(count / 2)\":0}"
            let uniqueMembers = try Array(unique.utf8).withUnsafeBytes { try JSONScanner.topLevelMembers(of: $0) }
            let repeatedMembers = try Array(repeated.utf8).withUnsafeBytes { try JSONScanner.topLevelMembers(of: $0) }
            #expect(!uniqueMembers.hasDuplicateKeys, "\(count) distinct keys")
            #expect(repeatedMembers.hasDuplicateKeys, "\(count) keys and one again")
        }
    }
}
