import NIOCore
import Testing

@testable import MultiProdigyCore
@testable import MultiProdigyJSON

/// The `chat.completion` assembled from a stream's chunks equals what the same upstream answers
/// without streaming, field by field, on literal fixtures in OpenAI's wire format.
@Suite struct ChatCompletionAssemblerTests {
    private static func assemble(_ chunks: [String]) throws -> JSONValue {
        var assembler = ChatCompletionAssembler()
        for chunk in chunks { try assembler.add(ByteBuffer(string: chunk)) }
        return assembler.completion()
    }

    private static func json(_ text: String) throws -> JSONValue {
        try JSONValue.parse(ByteBuffer(string: text))
    }

    @Test func aTextAnswerWithUsageFingerprintAndTier() throws {
        let chunks = [
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"obfuscation":"x"}"#,
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}"#,
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" there \"you\""},"logprobs":null,"finish_reason":null}]}"#,
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"#,
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"#,
        ]
        let expected = try Self.json(
            #"{"id":"chatcmpl-1","object":"chat.completion","created":1741569952,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there \"you\"","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_1"}"#
        )
        #expect(try Self.assemble(chunks) == expected)
    }

    @Test func toolCallsSplitAcrossChunksAreJoinedByTheirIndex() throws {
        let head = #"{"id":"c2","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"#
        let chunks = [
            head
                + #""delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}"#,
            head + #""delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}]}"#,
            head
                + #""delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}"#,
            head + #""delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]}"#,
            head + #""delta":{},"finish_reason":"tool_calls"}]}"#,
        ]
        let expected = try Self.json(
            #"{"id":"c2","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#
        )
        #expect(try Self.assemble(chunks) == expected)
    }

    @Test func aRefusalAndItsLogprobsAreKept() throws {
        let head = #"{"id":"c3","object":"chat.completion.chunk","created":8,"model":"m","choices":[{"index":0,"#
        let chunks = [
            head + #""delta":{"role":"assistant","refusal":""},"logprobs":null,"finish_reason":null}]}"#,
            head
                + #""delta":{"refusal":"I can't"},"logprobs":{"content":null,"refusal":[{"token":"I","logprob":-0.1,"bytes":[73],"top_logprobs":[]}]},"finish_reason":null}]}"#,
            head
                + #""delta":{"refusal":" help."},"logprobs":{"content":null,"refusal":[{"token":" help.","logprob":-0.2,"bytes":[32],"top_logprobs":[]}]},"finish_reason":null}]}"#,
            head + #""delta":{},"logprobs":null,"finish_reason":"stop"}]}"#,
        ]
        let expected = try Self.json(
            #"{"id":"c3","object":"chat.completion","created":8,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help."},"logprobs":{"content":null,"refusal":[{"token":"I","logprob":-0.1,"bytes":[73],"top_logprobs":[]},{"token":" help.","logprob":-0.2,"bytes":[32],"top_logprobs":[]}]},"finish_reason":"stop"}]}"#
        )
        #expect(try Self.assemble(chunks) == expected)
    }

    @Test func contentLogprobsAreJoinedInOrder() throws {
        let head = #"{"id":"c4","object":"chat.completion.chunk","created":9,"model":"m","choices":[{"index":0,"#
        let chunks = [
            head
                + #""delta":{"role":"assistant","content":"Hi"},"logprobs":{"content":[{"token":"Hi","logprob":-0.01,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.01,"bytes":[72,105]}]}],"refusal":null},"finish_reason":null}]}"#,
            head
                + #""delta":{"content":"!"},"logprobs":{"content":[{"token":"!","logprob":-0.5,"bytes":[33],"top_logprobs":[]}],"refusal":null},"finish_reason":"stop"}]}"#,
        ]
        let completion = try Self.assemble(chunks)
        let choice = completion["choices"]?.arrayValue?.first
        #expect(choice?["message"]?["content"]?.stringValue == "Hi!")
        #expect(choice?["logprobs"]?["content"]?.arrayValue?.map { $0["token"]?.stringValue } == ["Hi", "!"])
        #expect(choice?["logprobs"]?["refusal"] == .null)
        #expect(choice?["finish_reason"]?.stringValue == "stop")
    }

    @Test func severalChoicesInterleavedComeOutByIndex() throws {
        func chunk(_ index: Int, _ delta: String, finish: String = "null") -> String {
            #"{"id":"c5","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":\#(index),"delta":\#(delta),"finish_reason":\#(finish)}]}"#
        }
        let chunks = [
            chunk(1, #"{"role":"assistant","content":"B"}"#),
            chunk(0, #"{"role":"assistant","content":"A"}"#),
            chunk(1, #"{"content":"b"}"#),
            chunk(0, #"{"content":"a"}"#, finish: #""length""#),
            chunk(1, #"{}"#, finish: #""stop""#),
        ]
        let choices = try Self.assemble(chunks)["choices"]?.arrayValue ?? []
        #expect(choices.map { $0["index"]?.intValue } == [0, 1])
        #expect(choices.map { $0["message"]?["content"]?.stringValue } == ["Aa", "Bb"])
        #expect(choices.map { $0["finish_reason"]?.stringValue } == ["length", "stop"])
    }

    @Test func reasoningContentAndAnnotationsAreKept() throws {
        let head = #"{"id":"c6","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"#
        let chunks = [
            head + #""delta":{"role":"assistant","reasoning_content":"Think"},"finish_reason":null}]}"#,
            head + #""delta":{"reasoning_content":"ing.","content":"See"},"finish_reason":null}]}"#,
            head
                + #""delta":{"content":" here","annotations":[{"type":"url_citation","url_citation":{"url":"https://example.com","title":"E","start_index":0,"end_index":3}}]},"finish_reason":"stop"}]}"#,
        ]
        let message = try Self.assemble(chunks)["choices"]?.arrayValue?.first?["message"]
        #expect(message?["reasoning_content"]?.stringValue == "Thinking.")
        #expect(message?["content"]?.stringValue == "See here")
        #expect(message?["annotations"]?.arrayValue?.count == 1)
    }

    @Test func malformedChunksThrowAndNothingIsInvented() throws {
        var assembler = ChatCompletionAssembler()
        #expect(assembler.isEmpty)
        #expect(throws: JSONSyntaxError.self) { try assembler.add(ByteBuffer(string: #"{"id":"x","choices":["#)) }
        #expect(assembler.isEmpty)
    }

    @Test func fieldsItDoesNotKnowAreMergedAsTheyCome() throws {
        let head = #"{"id":"c7","object":"chat.completion.chunk","created":1,"model":"m","prompt_logprobs":null,"choices":[{"index":0,"#
        let chunks = [
            head
                + #""delta":{"role":"assistant","reasoning":"Let ","function_call":{"name":"lookup","arguments":""},"audio":{"id":"audio_1","transcript":"He"}},"stop_reason":null,"finish_reason":null}]}"#,
            head
                + #""delta":{"reasoning":"me see.","function_call":{"arguments":"{\"q\":"},"audio":{"id":"audio_1","transcript":"llo","data":"AAA"}},"finish_reason":null}]}"#,
            head
                + #""delta":{"function_call":{"arguments":"1}"},"audio":{"data":"BBB","expires_at":17}},"stop_reason":42,"finish_reason":"function_call"}]}"#,
        ]
        let answer = try Self.assemble(chunks)
        let choice = answer["choices"]?.arrayValue?.first
        let message = choice?["message"]
        #expect(message?["reasoning"]?.stringValue == "Let me see.")
        #expect(message?["function_call"] == ["name": "lookup", "arguments": #"{"q":1}"#])
        #expect(message?["audio"] == ["id": "audio_1", "transcript": "Hello", "data": "AAABBB", "expires_at": 17])
        #expect(choice?["stop_reason"]?.intValue == 42, "the last non-null value")
        #expect(answer["prompt_logprobs"] == .null, "a field that only came as null stays, as null")
        #expect(choice?["finish_reason"]?.stringValue == "function_call")
    }

    @Test func aToolCallKeepsTheFieldsOfItsUpstream() throws {
        let head = #"{"id":"c8","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"#
        let chunks = [
            head
                + #""delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"},"extra_content":{"google":{"thought_signature":"sig=="}}}]},"finish_reason":null}]}"#,
            head + #""delta":{},"finish_reason":"tool_calls"}]}"#,
        ]
        let call = try Self.assemble(chunks)["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.first
        #expect(
            call == [
                "id": "call_1", "type": "function", "function": ["name": "f", "arguments": "{}"],
                "extra_content": ["google": ["thought_signature": "sig=="]],
            ]
        )
    }

    @Test func aLongAnswerInManyChunksComesOutWhole() throws {
        var assembler = ChatCompletionAssembler()
        let head = #"{"id":"c9","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"#
        for index in 0..<20_000 {
            try assembler.add(ByteBuffer(string: head + #""w\#(index % 10) "},"finish_reason":null}]}"#))
        }
        let content = assembler.completion()["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
        #expect(content?.utf8.count == 60_000)
        #expect(content?.hasPrefix("w0 w1 w2 ") == true)
    }

    @Test func parallelCallsStreamedAtOneIndexStayApart() throws {
        // Some servers stream each parallel call whole, all at index 0, each with its own id and
        // its name repeated.
        let head = #"{"id":"c10","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"#
        let chunks = [
            head
                + #""delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":null}]}"#,
            head
                + #""delta":{"tool_calls":[{"index":0,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}"#,
            head
                + #""delta":{"tool_calls":[{"index":0,"id":"call_b","function":{"name":"get_time","arguments":""}}]},"finish_reason":"tool_calls"}]}"#,
        ]
        let calls = try Self.assemble(chunks)["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue ?? []
        #expect(calls.count == 2)
        #expect(calls.first?["id"]?.stringValue == "call_a")
        #expect(calls.first?["function"]?["arguments"]?.stringValue == #"{"city":"Paris"}"#)
        #expect(calls.last?["function"] == ["name": "get_time", "arguments": "{}"], "a repeated name is not doubled")
    }

    @Test func contentSentAsPartsIsJoinedPartByPart() throws {
        let head = #"{"id":"c11","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"#
        let chunks = [
            head
                + #""delta":{"role":"assistant","content":[{"type":"thinking","thinking":[{"type":"text","text":"Hmm."}]}]},"finish_reason":null}]}"#,
            head + #""delta":{"content":[{"type":"text","text":"Hel"}]},"finish_reason":null}]}"#,
            head + #""delta":{"content":[{"type":"text","text":"lo"}]},"finish_reason":"stop"}]}"#,
        ]
        let content = try Self.assemble(chunks)["choices"]?.arrayValue?.first?["message"]?["content"]
        #expect(content == [["type": "thinking", "thinking": [["type": "text", "text": "Hmm."]]], ["type": "text", "text": "Hello"]])
    }

    @Test func arraysOfItsOwnGrowAndMergeByIndex() throws {
        let head = #"{"id":"c12","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"#
        let chunks = [
            head
                + #""delta":{"role":"assistant","reasoning_details":[{"index":0,"type":"reasoning.text","text":"Let"}]},"finish_reason":null}]}"#,
            head + #""delta":{"reasoning_details":[]},"finish_reason":null}]}"#,
            head + #""delta":{"reasoning_details":[{"index":0,"text":" me","signature":"sig"}]},"finish_reason":null}]}"#,
            head + #""delta":{"reasoning_details":[{"index":1,"type":"reasoning.encrypted","data":"xyz"}]},"finish_reason":"stop"}]}"#,
        ]
        let details = try Self.assemble(chunks)["choices"]?.arrayValue?.first?["message"]?["reasoning_details"]
        #expect(
            details == [
                ["index": 0, "type": "reasoning.text", "text": "Let me", "signature": "sig"],
                ["index": 1, "type": "reasoning.encrypted", "data": "xyz"],
            ]
        )
    }

    @Test func theAnswersBytesCountItsTextNotItsChunks() throws {
        var assembler = ChatCompletionAssembler()
        let head = #"{"id":"c13","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"#
        for _ in 0..<10 { try assembler.add(ByteBuffer(string: head + #""abcd"},"finish_reason":null}]}"#)) }
        #expect(assembler.answerBytes == 40 + ChatCompletionAssembler.choiceWeight)
    }

    /// What `server.max_response_bytes` bounds counts everything the assembler holds: text nested in
    /// a field of the upstream's own (an audio transcript and its data), pieces without text, tool
    /// calls' own fields, and each choice an upstream opens.
    @Test func theAnswersBytesCountNestedPiecesAndEveryChoice() throws {
        var assembler = ChatCompletionAssembler()
        let head = #"{"id":"c14","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":"#
        for _ in 0..<10 {
            try assembler.add(ByteBuffer(string: head + #"{"audio":{"id":"a1","data":"QUJD","transcript":"ab"}},"finish_reason":null}]}"#))
        }
        // "a1" is replaced, not appended, but each piece still weighs what it carried, names too:
        // "audio", "id" "a1", "data" "QUJD", "transcript" "ab", and 2 for the object.
        #expect(assembler.answerBytes == 10 * (29 + 2) + ChatCompletionAssembler.choiceWeight)
        let audio = assembler.completion()["choices"]?.arrayValue?.first?["message"]?["audio"]
        #expect(audio?["data"]?.stringValue == String(repeating: "QUJD", count: 10))

        var parts = ChatCompletionAssembler()
        for _ in 0..<5 {
            try parts.add(ByteBuffer(string: head + #"{"content":[{"type":"image_url","image_url":{"url":""}}]},"finish_reason":null}]}"#))
        }
        // Each part, kept whole: "type" "image_url", "image_url" and its object ("url" and 1 for ""),
        // and 2 for each of the two objects.
        #expect(parts.answerBytes == 5 * (26 + 4) + ChatCompletionAssembler.choiceWeight, "a part without text counts too")

        // A text part that starts a part is kept, and weighed, whole; one joined to it adds its text.
        var padded = ChatCompletionAssembler()
        let pad = String(repeating: "p", count: 1000)
        for _ in 0..<3 {
            try padded.add(ByteBuffer(string: head + #"{"content":[{"type":"text","text":"ab","pad":"\#(pad)"}]},"finish_reason":null}]}"#))
        }
        #expect(padded.answerBytes == (2 + 4 + 4 + 4 + 2 + 3 + 1000) + 2 + 2 + ChatCompletionAssembler.choiceWeight)
        let joined = padded.completion()["choices"]?.arrayValue?.first?["message"]?["content"]?.arrayValue
        #expect(joined?.count == 1)
        #expect(joined?.first?["text"]?.stringValue == "ababab")

        // Log probabilities weigh all they hold, their alternatives too.
        var logprobs = ChatCompletionAssembler()
        try logprobs.add(
            ByteBuffer(
                string:
                    #"{"id":"c","choices":[{"index":0,"delta":{},"logprobs":{"content":[{"token":"","logprob":0,"top_logprobs":[{"token":"\#(pad)","logprob":0}]}]},"finish_reason":null}]}"#
            )
        )
        #expect(logprobs.answerBytes > 1000 + ChatCompletionAssembler.choiceWeight)

        var choices = ChatCompletionAssembler()
        for index in 0..<100 {
            try choices.add(
                ByteBuffer(string: #"{"id":"c","choices":[{"index":\#(index),"delta":{},"finish_reason":null}]}"#)
            )
        }
        #expect(choices.answerBytes == 100 * ChatCompletionAssembler.choiceWeight)
        #expect(choices.completion()["choices"]?.arrayValue?.count == 100)
    }

    /// From review: a number weighs its digits, and an array or object 2 whatever it holds, so that
    /// neither a field holding a megabyte of digits nor a deep nest of empty arrays, repeated in the
    /// fields that grow with every chunk (annotations, log probabilities, an array of the upstream's
    /// own), is held for a weight of 1.
    @Test func numbersWeighTheirDigitsAndContainersTheirBrackets() throws {
        let digits = String(repeating: "7", count: 1000)
        let nest = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        for (delta, least) in [
            (#"{"annotations":[\#(digits)]}"#, 1000),
            (#"{"extra":[\#(digits)]}"#, 1000),
            (#"{"annotations":[\#(nest)]}"#, 200),
            (#"{"extra":\#(nest)}"#, 200),
            (#"{"extra":{"a":{"b":{"c":{}}}}}"#, 8 + 3),
        ] {
            var assembler = ChatCompletionAssembler()
            for _ in 0..<3 {
                try assembler.add(ByteBuffer(string: #"{"id":"c","choices":[{"index":0,"delta":\#(delta),"finish_reason":null}]}"#))
            }
            #expect(assembler.answerBytes >= 3 * least + ChatCompletionAssembler.choiceWeight, "\(delta.prefix(40))")
            #expect(assembler.completion().buffer.readableBytes <= 8 * assembler.answerBytes, "\(delta.prefix(40))")
        }
        var logprobs = ChatCompletionAssembler()
        try logprobs.add(
            ByteBuffer(
                string:
                    #"{"id":"c","choices":[{"index":0,"delta":{},"logprobs":{"content":[{"token":"","logprob":\#(digits)}]},"finish_reason":null}]}"#
            )
        )
        #expect(logprobs.answerBytes > 1000 + ChatCompletionAssembler.choiceWeight)
    }

    /// A choice's role and finish reason weigh what they hold: an upstream cannot open choice after
    /// choice, each with a large role, for the fixed weight of a choice.
    @Test func aChoicesRoleAndFinishReasonAreWeighed() throws {
        var assembler = ChatCompletionAssembler()
        let large = String(repeating: "r", count: 1000)
        try assembler.add(
            ByteBuffer(string: #"{"id":"c","choices":[{"index":0,"delta":{"role":"\#(large)"},"finish_reason":"\#(large)"}]}"#)
        )
        #expect(assembler.answerBytes == 2000 + ChatCompletionAssembler.choiceWeight)
    }

    /// An upstream that names a new field in every chunk cannot grow the answer without bound: at
    /// most ``ChatCompletionAssembler/maximumKeptFields`` of its own are kept, at the top level and on
    /// a choice, the first ones to come.
    @Test func fieldsOfItsOwnAreKeptUpToALimit() throws {
        var assembler = ChatCompletionAssembler()
        for index in 0..<(ChatCompletionAssembler.maximumKeptFields + 10) {
            try assembler.add(
                ByteBuffer(
                    string:
                        #"{"id":"c","x\#(index)":1,"choices":[{"index":0,"y\#(index)":2,"delta":{"z\#(index)":"t"},"finish_reason":null}]}"#
                )
            )
        }
        // Each one weighs, kept or not: its name, and 1 for each number or "t".
        var weights = 0
        for index in 0..<(ChatCompletionAssembler.maximumKeptFields + 10) {
            let name = 1 + String(index).count
            weights += 3 * name + 3
        }
        #expect(assembler.answerBytes == weights + ChatCompletionAssembler.choiceWeight)
        let message = try #require(assembler.completion()["choices"]?.arrayValue?.first?["message"]?.objectValue)
        #expect(message["z0"] == .string("t"))
        #expect(message["z\(ChatCompletionAssembler.maximumKeptFields)"] == nil)
        let completion = try #require(assembler.completion().objectValue)
        #expect(completion["x0"] == .number("1"))
        #expect(completion["x\(ChatCompletionAssembler.maximumKeptFields - 1)"] == .number("1"))
        #expect(completion["x\(ChatCompletionAssembler.maximumKeptFields)"] == nil)
        let choice = try #require(completion["choices"]?.arrayValue?.first?.objectValue)
        #expect(choice["y0"] == .number("2"))
        #expect(choice["y\(ChatCompletionAssembler.maximumKeptFields)"] == nil)
    }
}
