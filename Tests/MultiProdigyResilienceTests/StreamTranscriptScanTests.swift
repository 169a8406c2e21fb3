import NIOCore
import Testing

@testable import MultiProdigyResilience

/// `StreamTranscript.record` reads chunks with the scanner as a JSON parser reads them: a whole
/// number written with a fraction is a number, and a repeated key counts with its last value.
@Suite struct StreamTranscriptScanTests {
    static func record(_ chunks: [String]) -> StreamTranscript {
        var transcript = StreamTranscript()
        for chunk in chunks { transcript.record(ByteBuffer(string: chunk)) }
        return transcript
    }

    /// `"index": 1.0` is choice 1: its text is not choice 0's.
    @Test func fractionalIndexIsStillChoiceOne() {
        let transcript = Self.record([#"{"id":"c","choices":[{"index":1.0,"delta":{"content":"x"}}]}"#])
        #expect(transcript.text == "")
        #expect(transcript.sentOtherThanText)
    }

    /// A repeated key counts once, with its last value: the client never saw the first.
    @Test func repeatedKeysKeepTheirLastValue() {
        let content = Self.record([#"{"choices":[{"index":0,"delta":{"content":"a","content":"b"}}]}"#])
        #expect(content.text == "b")
        let id = Self.record([#"{"id":"first","id":"second","choices":[]}"#])
        #expect(id.id == "second")
        let finish = Self.record([#"{"choices":[{"index":0,"finish_reason":"stop","finish_reason":null,"delta":{"content":"a"}}]}"#])
        #expect(!finish.finished)
    }
}
