import NIOCore
import Testing

@testable import MultiProdigyResilience

/// ``StreamTranscript``: what a stream has sent, and whether it can be continued.
@Suite struct StreamTranscriptTests {
    static func record(_ chunks: [String]) -> StreamTranscript {
        var transcript = StreamTranscript()
        for chunk in chunks { transcript.record(ByteBuffer(string: chunk)) }
        return transcript
    }

    @Test func textIsConcatenatedAndIdentityTakenFromTheFirstChunk() {
        let transcript = Self.record([
            #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1712345678,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            #"{"id":"chatcmpl-9","created":1712345678,"choices":[{"index":0,"delta":{"content":"Hello "},"finish_reason":null}]}"#,
            #"{"id":"other","created":5,"choices":[{"index":0,"delta":{"content":"wor\"ld\n"},"finish_reason":null}]}"#,
        ])
        #expect(transcript.id == "chatcmpl-9")
        #expect(transcript.created == "1712345678")
        #expect(transcript.text == "Hello wor\"ld\n")
        #expect(!transcript.sentOtherThanText)
        #expect(!transcript.finished)
        #expect(transcript.isContinuable)
    }

    @Test func toolCallsMakeItNotContinuable() {
        let transcript = Self.record([
            #"{"id":"c","created":1,"choices":[{"index":0,"delta":{"content":"Let me look."},"finish_reason":null}]}"#,
            #"{"id":"c","created":1,"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}"#,
        ])
        #expect(transcript.sentOtherThanText)
        #expect(!transcript.isContinuable)
    }

    @Test func refusalReasoningAndOtherChoicesMakeItNotContinuable() {
        let refusal = #"{"id":"c","created":1,"choices":[{"index":0,"delta":{"refusal":"I can't."},"finish_reason":null}]}"#
        let reasoning = #"{"id":"c","created":1,"choices":[{"index":0,"delta":{"reasoning_content":"Hmm"},"finish_reason":null}]}"#
        let otherChoice = #"{"id":"c","created":1,"choices":[{"index":1,"delta":{"content":"b"},"finish_reason":null}]}"#
        for chunk in [refusal, reasoning, otherChoice] {
            let transcript = Self.record([#"{"id":"c","choices":[{"index":0,"delta":{"content":"a"}}]}"#, chunk])
            #expect(!transcript.isContinuable, "\(chunk)")
        }
    }

    @Test func nullAndEmptyFieldsAreNotContent() {
        let transcript = Self.record([
            #"{"id":"c","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":null,"tool_calls":[]},"finish_reason":null}]}"#,
            #"{"id":"c","created":1,"choices":[{"index":0,"delta":{"content":"ok"},"logprobs":null,"finish_reason":null}]}"#,
        ])
        #expect(transcript.text == "ok")
        #expect(transcript.isContinuable)
    }

    @Test func finishReasonEndsIt() {
        let transcript = Self.record([
            #"{"id":"c","created":1,"choices":[{"index":0,"delta":{"content":"done"},"finish_reason":null}]}"#,
            #"{"id":"c","created":1,"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
        ])
        #expect(transcript.finished)
        #expect(!transcript.isContinuable)
    }

    @Test func finishReasonsAreKeptOnceEachInOrder() {
        let transcript = Self.record([
            #"{"id":"c","created":1,"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}"#,
            #"{"id":"c","created":1,"choices":[{"index":1,"delta":{},"finish_reason":"length"}]}"#,
            #"{"id":"c","created":1,"choices":[{"index":0,"delta":{},"finish_reason":"stop"},{"index":2,"delta":{},"finish_reason":"length"}]}"#,
        ])
        #expect(transcript.finishReasons == ["length", "stop"])
        #expect(Self.record([#"{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}"#]).finishReasons.isEmpty)
    }

    @Test func emptyOrMalformedStreamIsNotContinuable() {
        #expect(!Self.record([]).isContinuable)
        #expect(!Self.record(["{not json", "[1,2]"]).isContinuable)
        #expect(Self.record(["{not json"]).id == nil)
    }

    @Test func roleAnnouncementIsRecognised() {
        let announcements = [
            #"{"id":"c","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            #"{"id":"c","choices":[{"index":0,"delta":{"role":"assistant"}}]}"#,
            #"{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":null}}]}"#,
        ]
        for chunk in announcements { #expect(StreamTranscript.isRoleAnnouncement(ByteBuffer(string: chunk)), "\(chunk)") }
        let notAnnouncements = [
            #"{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}"#,
            #"{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            #"{"id":"c","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#,
            #"{"id":"c","choices":[{"index":0,"delta":{"role":"assistant"}}],"usage":{"prompt_tokens":1}}"#,
            "{not json",
        ]
        for chunk in notAnnouncements { #expect(!StreamTranscript.isRoleAnnouncement(ByteBuffer(string: chunk)), "\(chunk)") }
    }

    @Test func stampingSetsTheStreamsIdAndCreated() {
        let transcript = Self.record([#"{"id":"first","created":100,"choices":[{"index":0,"delta":{"content":"a"}}]}"#])
        let stamped = transcript.stamping(
            ByteBuffer(string: #"{"id":"second","object":"chat.completion.chunk","created":200,"model":"m","choices":[]}"#)
        )
        #expect(String(buffer: stamped) == #"{"id":"first","object":"chat.completion.chunk","created":100,"model":"m","choices":[]}"#)
        let appended = transcript.stamping(ByteBuffer(string: #"{"choices":[]}"#))
        #expect(String(buffer: appended) == #"{"choices":[],"id":"first","created":100}"#)
        #expect(String(buffer: StreamTranscript().stamping(ByteBuffer(string: #"{"id":"x"}"#))) == #"{"id":"x"}"#)
    }
}
