import NIOCore
import Testing

@testable import MultiProdigyJSON
@testable import MultiProdigyCore

@Suite struct ChatChunkInspectorTests {
    private func inspect(_ json: String) -> InspectedChunk? {
        ChatChunkInspector.inspect(ByteBuffer(string: json), modelName: JSONWriter.encodedString("declared"))
    }

    @Test func roleChunkWithEmptyContentCarriesNoContent() throws {
        let chunk = try #require(
            inspect(#"{"id":"c","model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#)
        )
        #expect(!chunk.carriesContent)
        #expect(chunk.finishedChoices.isEmpty)
        #expect(String(buffer: chunk.json).contains(#""model":"declared""#))
    }

    @Test(arguments: [
        #"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#,
        #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}}]}"#,
        #"{"choices":[{"index":0,"delta":{"refusal":"no"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"reasoning_content":"thinking"}}]}"#,
    ])
    func deltasWithTextToolCallsRefusalsOrReasoningCarryContent(_ json: String) {
        #expect(inspect(json)?.carriesContent == true)
    }

    @Test func finishReasonIsSeen() {
        #expect(inspect(#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#)?.finishedChoices == [0])
    }

    @Test func finishedChoicesAreReportedByIndex() {
        let json = #"{"choices":[{"index":1,"delta":{},"finish_reason":"stop"},{"index":0,"delta":{"content":"x"},"finish_reason":null}]}"#
        #expect(inspect(json)?.finishedChoices == [1])
    }

    @Test func usageChunkWithoutChoicesNeitherCarriesContentNorFinishes() throws {
        let chunk = try #require(inspect(#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#))
        #expect(!chunk.carriesContent && chunk.finishedChoices.isEmpty)
        #expect(String(buffer: chunk.json).hasSuffix(#","model":"declared"}"#))
    }

    @Test func inBandErrorIsRecognised() {
        #expect(inspect(#"{"error":{"message":"overloaded","type":"server_error"}}"#)?.error?.message == "overloaded")
        #expect(inspect(#"{"error":"flat error"}"#)?.error?.message == "flat error")
    }

    @Test func malformedChunkIsNil() {
        #expect(inspect("{\"choices\":[") == nil)
        #expect(inspect("[1,2]") == nil)
    }
}
