import NIOCore
import Testing

@testable import MultiProdigyRouting
@testable import MultiProdigyCore

@Suite struct TokenEstimatorTests {
    private func estimate(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { TokenEstimator.estimateTokens(inText: UnsafeRawBufferPointer($0)) }
    }

    private func estimate(request body: String) throws -> Int {
        TokenEstimator.estimatePromptTokens(of: try ChatCompletionRequest.parse(ByteBuffer(string: body)))
    }

    // True counts measured with tiktoken 0.14 (cl100k_base; o200k_base gives the same for these).
    @Test(arguments: [
        ("The quick brown fox jumps over the lazy dog while the farmer watches from the porch.", 17),
        ("Can you explain the difference between a process and a thread, and when I should use one over the other?", 22),
        (
            "When the city council met on Tuesday evening, the main item on the agenda was the proposal to turn the old railway depot into a public library.",
            29
        ),
        ("Invoice 2024-0917: 12 x Widget A @ 4.99 = 59.88 EUR, due 17.10.2024.", 34),
    ])
    func englishAndNumbersAreWithinFifteenPercentOfTheTokenizer(text: String, trueCount: Int) {
        let estimate = estimate(text)
        #expect(abs(estimate - trueCount) * 100 <= trueCount * 15, "estimated \(estimate), tokenizer says \(trueCount)")
    }

    // The raw JSON string contents, as the estimator sees them inside a request.
    @Test(arguments: [
        (#"def total(rows):\n    return sum(float(row[\"amount\"]) for row in rows if row.get(\"amount\"))\n"#, 22),
        (#"{\"id\": 42, \"name\": \"Alice Johnson\", \"email\": \"alice@example.com\", \"active\": true}"#, 26),
    ])
    func codeAndJSONAreWithinTwentyPercentOfTheTokenizer(rawJSONContents: String, trueCount: Int) {
        let estimate = estimate(rawJSONContents)
        #expect(abs(estimate - trueCount) * 100 <= trueCount * 20, "estimated \(estimate), tokenizer says \(trueCount)")
    }

    @Test func chineseLiesBetweenTheTwoTokenizers() {
        // cl100k_base: 22 tokens, o200k_base: 13.
        let estimate = estimate("你好！我想学习Python编程，但是完全没有基础。")
        #expect((13...22).contains(estimate))
    }

    @Test func jsonEscapesCountAsTheCharactersTheyStandFor() {
        #expect(estimate(#"first line\nsecond line\tend"#) == estimate("first line\nsecond line\tend"))
        #expect(estimate(#"\u4f60\u597d\u4e16\u754c"#) == estimate("你好世界"))
        #expect(estimate(#"\ud83d\ude00\ud83c\udf89 party"#) == estimate("😀🎉 party"))
        #expect(estimate(#"say \"hi\" and\/or"#) == estimate(#"say "hi" and/or"#))
        // An escaped backslash is one punctuation character, like the slash it is compared with.
        #expect(estimate(#"C:\\temp"#) == estimate("C:/temp"))
        #expect(estimate(#"\u0048ello world"#) == estimate("Hello world"))
    }

    @Test func emptyAndMalformedTextDoesNotCrash() {
        #expect(estimate("") == 0)
        #expect(estimate(#"\"#) == 1)
        #expect(estimate(#"abc\u12"#) >= 1)
        #expect(estimate(#"\ud83d alone"#) >= 1)
        let truncatedUTF8: [UInt8] = [0x61, 0xE4, 0xBD]
        #expect(truncatedUTF8.withUnsafeBytes { TokenEstimator.estimateTokens(inText: $0) } >= 1)
    }

    @Test func everyMessageCostsItsOverheadAndTheReplyIsPrimed() throws {
        let perMessage = TokenEstimator.messageOverheadTokenCount + TokenEstimator.roleTokenCount
        let one = try estimate(request: #"{"model":"m","messages":[{"role":"user","content":""}]}"#)
        let three = try estimate(
            request: #"{"model":"m","messages":[{"role":"system","content":""},{"role":"user","content":""},{"role":"user","content":""}]}"#
        )
        #expect(one == TokenEstimator.replyPrimingTokenCount + perMessage)
        #expect(three == TokenEstimator.replyPrimingTokenCount + 3 * perMessage)
    }

    @Test func aShortConversationIsCloseToTheCookbookRecipe() throws {
        // The cookbook's recipe with tiktoken gives 34 for this conversation (both encodings).
        let estimate = try estimate(
            request: #"""
                {"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant."},\#
                {"role":"user","content":"What is the capital of Australia, and why was it chosen over Sydney and Melbourne?"}]}
                """#
        )
        #expect((31...37).contains(estimate), "estimated \(estimate), recipe says 34")
    }

    @Test func nameCountsItsTextAndOneToken() throws {
        let without = try estimate(request: #"{"model":"m","messages":[{"role":"user","content":"hello there"}]}"#)
        let with = try estimate(request: #"{"model":"m","messages":[{"role":"user","name":"maya","content":"hello there"}]}"#)
        #expect(with == without + estimate("maya") + TokenEstimator.nameOverheadTokenCount)
    }

    @Test func contentPartsCountTextAndFixedCostsForImagesAndAudio() throws {
        let text = try estimate(request: #"{"model":"m","messages":[{"role":"user","content":"What is in this picture?"}]}"#)
        let textPart = try estimate(
            request: #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is in this picture?"}]}]}"#
        )
        let image = try estimate(
            request: #"""
                {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is in this picture?"},\#
                {"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}
                """#
        )
        let lowDetail = try estimate(
            request: #"""
                {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is in this picture?"},\#
                {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]}]}
                """#
        )
        let responsesImage = try estimate(
            request: #"""
                {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is in this picture?"},\#
                {"type":"input_image","image_url":"https://example.com/cat.png","detail":"low"}]}]}
                """#
        )
        let audio = try estimate(
            request: #"""
                {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is in this picture?"},\#
                {"type":"input_audio","input_audio":{"data":"UklGRiQAAABXQVZF","format":"wav"}}]}]}
                """#
        )
        #expect(textPart == text)
        #expect(image == text + TokenEstimator.imageTokenCount)
        #expect(lowDetail == text + TokenEstimator.lowDetailImageTokenCount)
        #expect(responsesImage == text + TokenEstimator.lowDetailImageTokenCount)
        #expect(audio == text + TokenEstimator.audioTokenCount)
    }

    @Test func nullContentUnknownPartsAndOddShapesCountOnlyTheOverhead() throws {
        let overhead =
            TokenEstimator.replyPrimingTokenCount + TokenEstimator.messageOverheadTokenCount + TokenEstimator.roleTokenCount
        let bodies = [
            #"{"model":"m","messages":[{"role":"assistant","content":null}]}"#,
            #"{"model":"m","messages":[{"role":"user"}]}"#,
            #"{"model":"m","messages":[{"role":"user","content":[]}]}"#,
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]}"#,
            #"{"model":"m","messages":[{"role":"user","content":[{"text":"no type"},"loose string",7,null]}]}"#,
            #"{"model":"m","messages":[{"role":"user","content":{"unexpected":"object"}}]}"#,
            #"{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[]}],"tools":[]}"#,
        ]
        for body in bodies {
            #expect(try estimate(request: body) == overhead, "\(body)")
        }
    }

    @Test func toolCallsCountTheirFunctionNameAndArguments() throws {
        let withoutCall = try estimate(request: #"{"model":"m","messages":[{"role":"assistant","content":null}]}"#)
        let withCall = try estimate(
            request: #"""
                {"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",\#
                "function":{"name":"get_current_weather","arguments":"{\"location\": \"Lisbon, PT\", \"unit\": \"celsius\"}"}}]}]}
                """#
        )
        let calledTokens =
            estimate("get_current_weather") + estimate(#"{\"location\": \"Lisbon, PT\", \"unit\": \"celsius\"}"#)
        #expect(withCall == withoutCall + TokenEstimator.toolCallOverheadTokenCount + calledTokens)
    }

    @Test func toolResultsCountTheirContent() throws {
        let empty = try estimate(request: #"{"model":"m","messages":[{"role":"tool","tool_call_id":"call_1","content":""}]}"#)
        let result = try estimate(
            request:
                #"{"model":"m","messages":[{"role":"tool","tool_call_id":"call_1","content":"{\"temperature\": 21, \"sky\": \"clear\"}"}]}"#
        )
        #expect(result == empty + estimate(#"{\"temperature\": 21, \"sky\": \"clear\"}"#))
    }

    @Test func toolDefinitionsAreCloseToTheCookbookRecipe() throws {
        let messages = #"[{"role":"user","content":"Is it raining in Lisbon?"}]"#
        let tools = #"""
            [{"type":"function","function":{"name":"get_current_weather","description":"Get the current weather in a given location.",\#
            "parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},\#
            "unit":{"type":"string","enum":["celsius","fahrenheit"],"description":"The temperature unit."}},"required":["location"]}}}]
            """#
        let without = try estimate(request: #"{"model":"m","messages":\#(messages)}"#)
        let with = try estimate(request: #"{"model":"m","messages":\#(messages),"tools":\#(tools)}"#)
        // The cookbook's gpt-4o tool recipe with tiktoken gives 65 for this tool (both encodings).
        #expect((56...75).contains(with - without), "tools estimated at \(with - without), recipe says 65")
    }

    @Test func textAppendedInPiecesCountsAsTheWholeText() {
        let samples = [
            "Hello world, this is camelCase text with 12345 digits,  two spaces\n\nand newlines!",
            "Grüße aus Köln — 你好世界 😀 done.",
        ]
        for sample in samples {
            let whole = estimate(sample)
            let boundaries = sample.unicodeScalars.indices.map { $0.utf16Offset(in: sample) }
            for offset in boundaries {
                let index = String.Index(utf16Offset: offset, in: sample)
                var head = String(sample[..<index])
                var tail = String(sample[index...])
                var tally = TokenTally()
                head.withUTF8 { tally.append(UnsafeRawBufferPointer($0)) }
                tail.withUTF8 { tally.append(UnsafeRawBufferPointer($0)) }
                #expect(tally.tokensClosingOpenPiece == whole, "split before \(offset) of \(sample)")
            }
        }
    }
}
