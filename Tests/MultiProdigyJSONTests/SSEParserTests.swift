import Testing

@testable import MultiProdigyJSON

@Suite struct SSEParserTests {
    private func parse(_ pieces: [String], finish: Bool = false) -> [SSEEvent] {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        for piece in pieces { parser.feed(Array(piece.utf8), into: &events) }
        if finish, let last = parser.finish() { events.append(last) }
        return events
    }

    private func data(_ events: [SSEEvent]) -> [String] {
        events.map { String(decoding: $0.data, as: UTF8.self) }
    }

    @Test func eventsEndAtBlankLines() {
        #expect(data(parse(["data: {\"a\":1}\n\ndata: [DONE]\n\n"])) == [#"{"a":1}"#, "[DONE]"])
    }

    @Test func eventSplitAcrossReadsAtEveryByteIsReassembled() {
        let stream = "data: {\"a\":1}\r\n\r\n: keep-alive\n\ndata: second\n\n"
        let bytes = stream.map { String($0) }
        #expect(data(parse(bytes)) == [#"{"a":1}"#, "second"])
    }

    @Test func crlfSplitBetweenReadsIsOneLineEnding() {
        #expect(data(parse(["data: x\r", "\n\r", "\ndata: y\r\n\r\n"])) == ["x", "y"])
    }

    @Test func bareCarriageReturnEndsLines() {
        #expect(data(parse(["data: x\r\rdata: y\r\r"])) == ["x", "y"])
    }

    @Test func commentsAndUnknownFieldsAreIgnored() {
        #expect(data(parse([": ping\nid: 7\nretry: 100\ndata: payload\n\n:another\n\n"])) == ["payload"])
    }

    @Test func multiLineDataIsJoinedWithNewlines() {
        #expect(data(parse(["data: first\ndata: second\ndata:third\n\n"])) == ["first\nsecond\nthird"])
    }

    @Test func dataWithoutSpaceAfterColonIsAccepted() {
        #expect(data(parse(["data:{\"tgi\":true}\n\n"])) == [#"{"tgi":true}"#])
    }

    @Test func onlyOneLeadingSpaceIsRemoved() {
        #expect(data(parse(["data:  indented\n\n"])) == [" indented"])
    }

    @Test func eventNameIsKept() {
        let events = parse(["event: message_start\ndata: {}\n\n"])
        #expect(events.first?.name == "message_start")
    }

    @Test func blankLinesWithoutDataProduceNoEvent() {
        #expect(parse(["\n\n\n: c\n\n"]).isEmpty)
    }

    @Test func unterminatedLastEventIsDeliveredAtFinish() {
        #expect(data(parse(["data: a\n\ndata: tail"], finish: true)) == ["a", "tail"])
        #expect(data(parse(["data: a\n\ndata: tail\n"], finish: true)) == ["a", "tail"])
        #expect(parse(["data: a\n\n"], finish: true).count == 1)
    }

    @Test func leadingByteOrderMarkIsSkipped() {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        parser.feed([0xEF, 0xBB, 0xBF] + Array("data: first\n\n".utf8), into: &events)
        #expect(data(events) == ["first"])
    }

    @Test func oversizeEventStopsTheParser() {
        var parser = SSEParser(maximumEventBytes: 16)
        var events: [SSEEvent] = []
        parser.feed(Array("data: 0123456789abcdefghij".utf8), into: &events)
        #expect(parser.exceededSizeLimit)
        parser.feed(Array("\n\ndata: later\n\n".utf8), into: &events)
        #expect(events.isEmpty)
    }

    @Test func doneSentinelIsRecognised() {
        #expect(SSEEvent(data: Array("[DONE]".utf8)).isDoneSentinel)
        #expect(!SSEEvent(data: Array("{\"x\":\"[DONE]\"}".utf8)).isDoneSentinel)
    }
}
