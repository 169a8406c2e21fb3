import NIOCore
import Testing

@testable import MultiProdigyResilience
@testable import MultiProdigyRouting

/// ``StreamTranscript``'s bound (`server.max_stream_transcript_bytes`): the text it keeps stops at
/// the bound on a whole character, the answer is then no longer continuable, and its tokens are
/// still counted to the end.
@Suite struct StreamTranscriptBoundTests {
    static func content(_ text: String) -> String {
        #"{"id":"c","created":1,"choices":[{"index":0,"delta":{"content":"\#(text)"},"finish_reason":null}]}"#
    }

    static func record(_ texts: [String], bound: Int) -> StreamTranscript {
        var transcript = StreamTranscript(maximumTextBytes: bound)
        for text in texts { transcript.record(ByteBuffer(string: content(text))) }
        return transcript
    }

    @Test func textExactlyAtTheBoundIsKeptWholeAndContinuable() {
        let transcript = Self.record(["Hello", "world"], bound: 10)
        #expect(transcript.text == "Helloworld")
        #expect(!transcript.isTruncated)
        #expect(transcript.isContinuable)
    }

    @Test func oneBytePastTheBoundStopsTheTextAndEndsContinuation() {
        var transcript = Self.record(["Hello", "world!"], bound: 10)
        #expect(transcript.text == "Helloworld")
        #expect(transcript.isTruncated)
        #expect(!transcript.isContinuable)
        transcript.record(ByteBuffer(string: Self.content("more")))
        #expect(transcript.text == "Helloworld", "the text stops growing")
        #expect(!transcript.isContinuable)
    }

    @Test func aChunkLargerThanTheWholeBoundKeepsWhatFits() {
        let transcript = Self.record(["abcdefghijkl"], bound: 5)
        #expect(transcript.text == "abcde")
        #expect(transcript.isTruncated)
    }

    @Test func aTwoByteCharacterEndingExactlyAtTheBoundIsKept() {
        let transcript = Self.record(["abcd", "é"], bound: 6)
        #expect(transcript.text == "abcdé")
        #expect(transcript.text.utf8.count == 6)
        #expect(transcript.isContinuable)
    }

    @Test func aMultiByteCharacterAcrossTheBoundIsLeftOutWhole() {
        // "é" is 2 bytes, "€" 3, "😀" 4: none may be split by the bound.
        let cases: [(texts: [String], bound: Int, kept: String)] = [
            (["abcd", "éx"], 5, "abcd"),
            (["ab", "€€"], 7, "ab€"),
            (["ab", "€€"], 6, "ab€"),
            (["abc", "😀😀"], 10, "abc😀"),
            (["abc", "😀😀"], 7, "abc😀"),
            (["😀"], 3, ""),
            // A letter with a combining accent is one character of 3 bytes.
            (["ab", "e\u{301}x"], 4, "ab"),
        ]
        for (texts, bound, kept) in cases {
            let transcript = Self.record(texts, bound: bound)
            #expect(transcript.text == kept, "\(texts) in \(bound) bytes")
            #expect(transcript.text.utf8.count <= bound)
            #expect(transcript.isTruncated)
            #expect(!transcript.isContinuable)
        }
    }

    @Test func aZeroBoundKeepsNothingAndNeverContinues() {
        let transcript = Self.record(["a"], bound: 0)
        #expect(transcript.text.isEmpty)
        #expect(transcript.isTruncated)
        #expect(!transcript.isContinuable)
    }

    @Test func tokensAreCountedForTheWholeTextPastTheBound() {
        let pieces = [
            "The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".", "\n\n", "It", " ran", " 1234", " km", "!",
        ]
        var whole = pieces.joined()
        let expected = whole.withUTF8 { TokenEstimator.estimateTokens(inText: UnsafeRawBufferPointer($0)) }
        let bounded = Self.record(pieces, bound: 8)
        #expect(bounded.isTruncated)
        #expect(bounded.estimatedTextTokens == expected)
        #expect(Self.record(pieces, bound: 1 << 20).estimatedTextTokens == expected)
    }

    @Test func aWordSplitAcrossChunksCountsAsOneWord() {
        var whole = "Hello world"
        let expected = whole.withUTF8 { TokenEstimator.estimateTokens(inText: UnsafeRawBufferPointer($0)) }
        #expect(Self.record(["Hel", "lo wor", "ld"], bound: 4).estimatedTextTokens == expected)
    }
}
