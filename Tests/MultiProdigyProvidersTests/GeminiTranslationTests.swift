import Foundation
import NIOCore
import Synchronization
import Testing

@testable import MultiProdigyCore
@testable import MultiProdigyJSON
@testable import MultiProdigyProviders

/// Whether `value` and the JSON text `expected` hold the same document (member order aside).
private func sameJSON(_ value: JSONValue, _ expected: String) -> Bool {
    let left = try? JSONSerialization.jsonObject(with: Data(value.text.utf8), options: [.fragmentsAllowed])
    let right = try? JSONSerialization.jsonObject(with: Data(expected.utf8), options: [.fragmentsAllowed])
    guard let left = left as? NSObject, let right = right as? NSObject else { return false }
    return left.isEqual(right)
}

private func json(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

private func translateRequest(_ text: String, memory: GeminiToolCallMemory? = nil) throws -> JSONValue {
    try GeminiRequestTranslator(providerName: "gem", toolCallMemory: memory).translate(json(text))
}

/// Catches a typed-throws `GatewayError` from the request translator.
private func requestError(_ text: String) throws -> GatewayError? {
    let request = try json(text)
    do {
        _ = try GeminiRequestTranslator(providerName: "gem").translate(request)
        return nil
    } catch {
        return error
    }
}

private func sseEvent(_ data: String) -> SSEEvent { SSEEvent(data: Array(data.utf8)) }

private func chunks(_ events: [ChatStreamEvent]) -> [JSONValue] {
    events.compactMap { event in
        guard case .chunk(let buffer) = event else { return nil }
        return try? JSONValue.parse(buffer)
    }
}

/// OpenAI → Gemini request translation.
@Suite struct GeminiRequestTranslationTests {
    @Test func requestMapsRolesImagesToolsAndGenerationSettings() throws {
        let body = try translateRequest(
            """
            {"model":"gemini-2.5-flash","temperature":0.2,"top_p":1,"max_tokens":100,"max_completion_tokens":512,
             "stop":"\\nEND","n":2,"seed":42,"presence_penalty":0.5,"frequency_penalty":-0.5,"user":"u1","parallel_tool_calls":true,
             "messages":[
              {"role":"system","content":"You are a helpful assistant."},
              {"role":"developer","content":[{"type":"text","text":"Answer briefly."}]},
              {"role":"user","content":[
                {"type":"text","text":"What's the weather in Paris? Here is a photo."},
                {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Get the current weather","strict":true,
               "parameters":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,
                 "properties":{"city":{"type":"string"}},"required":["city"]}}}],
             "tool_choice":"auto"}
            """
        )
        let expected = """
            {"contents":[{"role":"user","parts":[
               {"text":"What's the weather in Paris? Here is a photo."},
               {"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]}],
             "systemInstruction":{"parts":[{"text":"You are a helpful assistant."},{"text":"Answer briefly."}]},
             "generationConfig":{"temperature":0.2,"topP":1,"maxOutputTokens":512,"stopSequences":["\\nEND"],"candidateCount":2,
               "seed":42,"presencePenalty":0.5,"frequencyPenalty":-0.5},
             "tools":[{"functionDeclarations":[{"name":"get_weather","description":"Get the current weather",
               "parameters":{"type":"OBJECT","required":["city"],"properties":{"city":{"type":"STRING"}}}}]}],
             "toolConfig":{"functionCallingConfig":{"mode":"AUTO"}}}
            """
        #expect(sameJSON(body, expected), "\(body.text)")
    }

    @Test func consecutiveTurnsOfOneRoleAreMergedAndAssistantBecomesModel() throws {
        let body = try translateRequest(
            """
            {"model":"m","messages":[
              {"role":"user","content":"first"},{"role":"user","content":"second"},
              {"role":"assistant","content":"reply"},{"role":"assistant","content":[{"type":"text","text":"more"}]},
              {"role":"user","content":""},{"role":"user","content":"third"}]}
            """
        )
        let expected = """
            {"contents":[
              {"role":"user","parts":[{"text":"first"},{"text":"second"}]},
              {"role":"model","parts":[{"text":"reply"},{"text":"more"}]},
              {"role":"user","parts":[{"text":"third"}]}]}
            """
        #expect(sameJSON(body, expected), "\(body.text)")
    }

    @Test func toolRoundTripNamesEachResultAfterItsCallAndMergesResultsIntoOneUserTurn() throws {
        let body = try translateRequest(
            """
            {"model":"m","messages":[
              {"role":"user","content":"Weather in Paris and Lyon?"},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}},
                {"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]},
              {"role":"tool","tool_call_id":"call_b","content":"12:00"},
              {"role":"tool","tool_call_id":"call_a","content":"{\\"temp_c\\":14}"},
              {"role":"tool","tool_call_id":"call_a","content":"[1,2]"}]}
            """
        )
        let expected = """
            {"contents":[
              {"role":"user","parts":[{"text":"Weather in Paris and Lyon?"}]},
              {"role":"model","parts":[
                {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"skip_thought_signature_validator"},
                {"functionCall":{"name":"get_time","args":{}}}]},
              {"role":"user","parts":[
                {"functionResponse":{"name":"get_time","response":{"output":"12:00"}}},
                {"functionResponse":{"name":"get_weather","response":{"temp_c":14}}},
                {"functionResponse":{"name":"get_weather","response":{"output":[1,2]}}}]}]}
            """
        #expect(sameJSON(body, expected), "\(body.text)")
    }

    @Test func rememberedSignaturesAndGeminiIDsAreSentBackButSynthesisedIDsAreNot() throws {
        let memory = GeminiToolCallMemory()
        memory.remember(.init(thoughtSignature: "SIG1", isUpstreamID: true), forToolCall: "gem-id-1")
        let body = try translateRequest(
            """
            {"model":"m","messages":[
              {"role":"user","content":"go"},
              {"role":"assistant","tool_calls":[
                {"id":"gem-id-1","type":"function","function":{"name":"f","arguments":"{}"}},
                {"id":"call_x","type":"function","function":{"name":"g","arguments":"{}"},
                 "extra_content":{"google":{"thought_signature":"SIG2"}}}]},
              {"role":"tool","tool_call_id":"gem-id-1","content":"1"},
              {"role":"tool","tool_call_id":"call_x","content":"2"}]}
            """,
            memory: memory
        )
        let expected = """
            {"contents":[
              {"role":"user","parts":[{"text":"go"}]},
              {"role":"model","parts":[
                {"functionCall":{"id":"gem-id-1","name":"f","args":{}},"thoughtSignature":"SIG1"},
                {"functionCall":{"name":"g","args":{}},"thoughtSignature":"SIG2"}]},
              {"role":"user","parts":[
                {"functionResponse":{"id":"gem-id-1","name":"f","response":{"output":1}}},
                {"functionResponse":{"name":"g","response":{"output":2}}}]}]}
            """
        #expect(sameJSON(body, expected), "\(body.text)")
    }

    @Test func toolResultForAnUnknownCallIsA400() throws {
        let error = try #require(
            try requestError(
                #"{"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"call_zz","content":"1"}]}"#
            )
        )
        #expect(error.status == .badRequest)
        #expect(error.param == "messages[1].tool_call_id")
        #expect(error.message.contains("call_zz"))
    }

    @Test func invalidToolArgumentsAreA400() throws {
        let error = try #require(
            try requestError(
                #"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"not json"}}]}]}"#
            )
        )
        #expect(error.param == "messages[0].tool_calls[0].function.arguments")
    }

    @Test func remoteImageWithoutPermissionIsA400ThatSaysHowToAllowIt() throws {
        let error = try #require(
            try requestError(
                #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}"#
            )
        )
        #expect(error.status == .badRequest)
        #expect(error.type == "invalid_request_error")
        #expect(error.param == "messages")
        #expect(error.message.contains("allow_remote_images"))
        #expect(error.message.contains("data:image/png;base64"))
    }

    @Test func fetchedRemoteImagesAreInlined() throws {
        let request = try json(
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}"#
        )
        #expect(GeminiRequestTranslator.remoteImageURLs(in: request) == ["https://example.com/cat.png"])
        var translator = GeminiRequestTranslator(providerName: "gem")
        translator.remoteImages["https://example.com/cat.png"] = .init(mimeType: "image/jpeg", base64: "AAAA")
        let body = try translator.translate(request)
        let parts = try #require(body["contents"]?.arrayValue?.first?["parts"]?.arrayValue)
        #expect(parts.count == 2)
        #expect(sameJSON(parts[0], #"{"inlineData":{"mimeType":"image/jpeg","data":"AAAA"}}"#))
    }

    @Test func onlySystemMessagesIsA400() throws {
        let error = try #require(try requestError(#"{"model":"m","messages":[{"role":"system","content":"be nice"}]}"#))
        #expect(error.param == "messages")
    }

    @Test func toolChoiceMapsToFunctionCallingModes() throws {
        let tools = #""tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]"#
        func config(_ choice: String) throws -> JSONValue? {
            try translateRequest(#"{"model":"m","messages":[{"role":"user","content":"x"}],\#(tools),"tool_choice":\#(choice)}"#)[
                "toolConfig"
            ]
        }
        #expect(sameJSON(try #require(try config(#""none""#)), #"{"functionCallingConfig":{"mode":"NONE"}}"#))
        #expect(sameJSON(try #require(try config(#""required""#)), #"{"functionCallingConfig":{"mode":"ANY"}}"#))
        #expect(
            sameJSON(
                try #require(try config(#"{"type":"function","function":{"name":"b"}}"#)),
                #"{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["b"]}}"#
            )
        )
        let allowed = try translateRequest(
            #"{"model":"m","messages":[{"role":"user","content":"x"}],\#(tools),"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"a"}}]}}}"#
        )
        #expect(sameJSON(try #require(allowed["tools"]), #"[{"functionDeclarations":[{"name":"a"}]}]"#))
        #expect(sameJSON(try #require(allowed["toolConfig"]), #"{"functionCallingConfig":{"mode":"AUTO"}}"#))
        let none = try translateRequest(#"{"model":"m","messages":[{"role":"user","content":"x"}],\#(tools)}"#)
        #expect(none["toolConfig"] == nil)
    }

    @Test func responseFormatMapsToJSONModeAndConvertedSchema() throws {
        let jsonObject = try translateRequest(
            #"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}"#
        )
        #expect(sameJSON(try #require(jsonObject["generationConfig"]), #"{"responseMimeType":"application/json"}"#))
        let schema = try translateRequest(
            """
            {"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"answer","strict":true,
             "schema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,
              "properties":{"answer":{"type":"string"},"score":{"type":["number","null"]}},"required":["answer","score"]}}}}
            """
        )
        let expected = """
            {"responseMimeType":"application/json","responseSchema":{"type":"OBJECT","required":["answer","score"],
             "properties":{"answer":{"type":"STRING"},"score":{"type":"NUMBER","nullable":true}}}}
            """
        #expect(sameJSON(try #require(schema["generationConfig"]), expected))
    }

    @Test func unsupportedToolTypeIsA400() throws {
        let error = try #require(
            try requestError(#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{"name":"x"}}]}"#)
        )
        #expect(error.param == "tools[0].type")
    }
}

/// JSON Schema → Gemini Schema conversion.
@Suite struct GeminiSchemaTests {
    @Test func unsupportedKeywordsAreRemovedRecursively() throws {
        let converted = GeminiSchema.convert(
            try json(
                """
                {"$schema":"x","$id":"y","type":"object","additionalProperties":false,"strict":true,"examples":[1],
                 "properties":{
                   "tags":{"type":"array","items":{"type":"string","additionalProperties":false,"format":"email"}},
                   "when":{"type":"string","format":"date-time","description":"ISO time"},
                   "count":{"type":"integer","minimum":0,"maximum":10,"format":"int32"},
                   "kind":{"type":"string","enum":["a","b"]},
                   "fixed":{"const":"only"}},
                 "required":["tags"]}
                """
            )
        )
        let expected = """
            {"type":"OBJECT","required":["tags"],"properties":{
              "tags":{"type":"ARRAY","items":{"type":"STRING"}},
              "when":{"type":"STRING","format":"date-time","description":"ISO time"},
              "count":{"type":"INTEGER","format":"int32","minimum":0,"maximum":10},
              "kind":{"type":"STRING","enum":["a","b"]},
              "fixed":{"enum":["only"]}}}
            """
        #expect(sameJSON(converted, expected), "\(converted.text)")
    }

    @Test func referencesAreInlinedAndNullableUnionsCollapsed() throws {
        let converted = GeminiSchema.convert(
            try json(
                """
                {"type":"object","$defs":{"Address":{"type":"object","properties":{"city":{"type":"string"}}}},
                 "properties":{
                   "home":{"$ref":"#/$defs/Address","description":"where"},
                   "work":{"anyOf":[{"$ref":"#/$defs/Address"},{"type":"null"}]},
                   "either":{"anyOf":[{"type":"string"},{"type":"integer"}]},
                   "self":{"$ref":"#/$defs/Missing"}}}
                """
            )
        )
        let expected = """
            {"type":"OBJECT","properties":{
              "home":{"type":"OBJECT","description":"where","properties":{"city":{"type":"STRING"}}},
              "work":{"type":"OBJECT","nullable":true,"properties":{"city":{"type":"STRING"}}},
              "either":{"anyOf":[{"type":"STRING"},{"type":"INTEGER"}]},
              "self":{"type":"OBJECT"}}}
            """
        #expect(sameJSON(converted, expected), "\(converted.text)")
    }

    @Test func recursiveReferencesStop() throws {
        let converted = GeminiSchema.convert(
            try json(
                ##"{"$defs":{"Node":{"type":"object","properties":{"next":{"$ref":"#/$defs/Node"}}}},"$ref":"#/$defs/Node"}"##
            )
        )
        #expect(converted["type"]?.stringValue == "OBJECT")
    }
}

/// Gemini → OpenAI answers.
@Suite struct GeminiResponseTranslationTests {
    static func translator(memory: GeminiToolCallMemory? = nil) -> GeminiResponseTranslator {
        let counter = GeminiTestCounter()
        return GeminiResponseTranslator(
            model: "gemini-2.5-flash",
            toolCallMemory: memory,
            makeToolCallID: { "call_synth\(counter.next())" }
        )
    }

    @Test func textAnswerSkipsThoughtsAndMapsUsageWithCachedAndThinkingTokens() throws {
        let completion = try Self.translator().translate(
            json(
                """
                {"candidates":[{"content":{"role":"model","parts":[{"text":"thinking...","thought":true},{"text":"Hello! "},{"text":""},{"text":"How can I help?"}]},
                  "finishReason":"STOP","index":0,"safetyRatings":[]}],
                 "usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":7,"totalTokenCount":40,"thoughtsTokenCount":25,"cachedContentTokenCount":3,
                  "promptTokensDetails":[{"modality":"TEXT","tokenCount":8}]},
                 "modelVersion":"gemini-2.5-flash","responseId":"Il0taoSYJ5Cez7-PgcKQ0AM"}
                """
            )
        )
        #expect(completion["id"]?.stringValue == "chatcmpl-Il0taoSYJ5Cez7-PgcKQ0AM")
        #expect(completion["object"]?.stringValue == "chat.completion")
        #expect(completion["created"]?.intValue != nil)
        let expectedChoices = """
            [{"index":0,"message":{"role":"assistant","content":"Hello! How can I help?"},"finish_reason":"stop"}]
            """
        #expect(sameJSON(try #require(completion["choices"]), expectedChoices))
        let expectedUsage = """
            {"prompt_tokens":8,"completion_tokens":32,"total_tokens":40,"prompt_tokens_details":{"cached_tokens":3},
             "completion_tokens_details":{"reasoning_tokens":25}}
            """
        #expect(sameJSON(try #require(completion["usage"]), expectedUsage))
    }

    @Test func functionCallsBecomeToolCallsWithSynthesisedIDsAndRememberedSignatures() throws {
        let memory = GeminiToolCallMemory()
        let completion = try Self.translator(memory: memory).translate(
            json(
                """
                {"candidates":[{"content":{"role":"model","parts":[
                   {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"CiQBjz1rX"},
                   {"functionCall":{"id":"","name":"get_weather","args":{"city":"Lyon"}}},
                   {"functionCall":{"id":"gem-7","name":"get_time"}}]},
                  "finishReason":"STOP","index":0}],
                 "usageMetadata":{"promptTokenCount":60,"candidatesTokenCount":20,"totalTokenCount":80},"responseId":"abc123"}
                """
            )
        )
        let expected = """
            [{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,"tool_calls":[
              {"id":"call_synth1","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"},
               "extra_content":{"google":{"thought_signature":"CiQBjz1rX"}}},
              {"id":"call_synth2","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Lyon\\"}"}},
              {"id":"gem-7","type":"function","function":{"name":"get_time","arguments":"{}"}}]}}]
            """
        #expect(sameJSON(try #require(completion["choices"]), expected), "\(completion.text)")
        #expect(memory.record(forToolCall: "call_synth1") == .init(thoughtSignature: "CiQBjz1rX", isUpstreamID: false))
        #expect(memory.record(forToolCall: "call_synth2") == nil)
        #expect(memory.record(forToolCall: "gem-7") == .init(thoughtSignature: nil, isUpstreamID: true))
    }

    @Test func randomToolCallIDsAreUnique() {
        let ids = (0..<100).map { _ in GeminiResponseTranslator.randomID(prefix: "call_") }
        #expect(Set(ids).count == 100)
        #expect(ids.allSatisfy { $0.hasPrefix("call_") && $0.count == 29 })
    }

    @Test(arguments: [
        ("STOP", false, "stop"), ("STOP", true, "tool_calls"), ("MAX_TOKENS", false, "length"), ("SAFETY", false, "content_filter"),
        ("RECITATION", false, "content_filter"), ("BLOCKLIST", false, "content_filter"), ("PROHIBITED_CONTENT", false, "content_filter"),
        ("SPII", false, "content_filter"), ("OTHER", false, "stop"),
    ])
    func finishReasonsMap(gemini: String, hasToolCalls: Bool, openAI: String) throws {
        #expect(try GeminiResponseTranslator.finishReason(gemini, hasToolCalls: hasToolCalls, finishMessage: nil) == openAI)
    }

    @Test func malformedFunctionCallIsAnErrorNotAStop() throws {
        let response = try json(
            #"{"candidates":[{"content":{"parts":[]},"finishReason":"MALFORMED_FUNCTION_CALL","finishMessage":"Malformed function call: print(x","index":0}]}"#
        )
        do {
            _ = try Self.translator().translate(response)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .server)
            #expect(error.allowsFailover)
            #expect(error.upstreamError?.code == "malformed_function_call")
            #expect(error.message.contains("Malformed function call: print(x"))
        }
    }

    @Test func blockedPromptIsAContentFilterAnswerPerChoice() throws {
        var translator = Self.translator()
        translator.choiceCount = 2
        let completion = try translator.translate(
            json(
                """
                {"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH"}]},
                 "usageMetadata":{"promptTokenCount":12,"totalTokenCount":12},"modelVersion":"gemini-2.5-flash"}
                """
            )
        )
        let choices = try #require(completion["choices"]?.arrayValue)
        #expect(choices.count == 2)
        #expect(choices.allSatisfy { $0["finish_reason"]?.stringValue == "content_filter" && $0["message"]?["content"] == .null })
        #expect(completion["usage"]?["prompt_tokens"]?.intValue == 12)
    }

    @Test func candidateBlockedMidGenerationHasEmptyContentAndContentFilter() throws {
        let completion = try Self.translator().translate(json(#"{"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[]}]}"#))
        #expect(completion["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "content_filter")
        #expect(completion["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == "")
    }

    @Test func multipleCandidatesKeepTheirIndexes() throws {
        let completion = try Self.translator().translate(
            json(
                #"{"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":"STOP","index":0},{"content":{"parts":[{"text":"b"}]},"finishReason":"MAX_TOKENS","index":1}]}"#
            )
        )
        let choices = try #require(completion["choices"]?.arrayValue)
        #expect(choices.map { $0["index"]?.intValue } == [0, 1])
        #expect(choices.map { $0["finish_reason"]?.stringValue } == ["stop", "length"])
    }

    @Test func answerWithoutCandidatesOrBlockReasonIsAProtocolError() throws {
        #expect(throws: ProviderError.self) { try Self.translator().translate(json(#"{"modelVersion":"x"}"#)) }
    }
}

/// Gemini SSE → OpenAI chunks.
@Suite struct GeminiStreamTranslationTests {
    static func translator(includeUsage: Bool = false, choiceCount: Int = 1) -> GeminiStreamTranslator {
        let counter = GeminiTestCounter()
        return GeminiStreamTranslator(
            providerName: "gem",
            includeUsage: includeUsage,
            choiceCount: choiceCount,
            responses: GeminiResponseTranslator(model: "gemini-2.5-flash", makeToolCallID: { "call_s\(counter.next())" })
        )
    }

    static let first =
        #"{"candidates": [{"content": {"parts": [{"text": "Hel"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 5,"totalTokenCount": 5},"modelVersion": "gemini-2.5-flash","responseId": "Y4ZBaJ7RI6mVz7IPqsSyoQk"}"#
    static let last =
        #"{"candidates": [{"content": {"parts": [{"text": "lo there!"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 5,"candidatesTokenCount": 4,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "Y4ZBaJ7RI6mVz7IPqsSyoQk"}"#

    @Test func textStreamBecomesRoleContentFinishUsageAndDone() throws {
        var translator = Self.translator(includeUsage: true)
        var events = try translator.translate(sseEvent(Self.first))
        events += try translator.translate(sseEvent(Self.last))
        let beforeEnd = events
        #expect(!beforeEnd.contains(.done), "Gemini has no [DONE]: completion waits for the body to end")
        events += try translator.finish()
        #expect(events.last == .done)
        let objects = chunks(events)
        #expect(objects.count == 5)
        let ids = Set(objects.compactMap { $0["id"]?.stringValue })
        #expect(ids.count == 1)
        #expect(
            objects.allSatisfy { $0["object"]?.stringValue == "chat.completion.chunk" && $0["model"]?.stringValue == "gemini-2.5-flash" }
        )
        #expect(
            sameJSON(try #require(objects[0]["choices"]), #"[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]"#)
        )
        #expect(sameJSON(try #require(objects[1]["choices"]), #"[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]"#))
        #expect(sameJSON(try #require(objects[2]["choices"]), #"[{"index":0,"delta":{"content":"lo there!"},"finish_reason":null}]"#))
        #expect(sameJSON(try #require(objects[3]["choices"]), #"[{"index":0,"delta":{},"finish_reason":"stop"}]"#))
        #expect(objects[4]["choices"] == .array([]))
        #expect(objects[4]["usage"]?["completion_tokens"]?.intValue == 4)
        #expect(objects[4]["usage"]?["total_tokens"]?.intValue == 9)
    }

    @Test func withoutIncludeUsageNoUsageChunk() throws {
        var translator = Self.translator()
        var events = try translator.translate(sseEvent(Self.last))
        events += try translator.finish()
        #expect(chunks(events).allSatisfy { $0["usage"] == nil })
        #expect(events.last == .done)
    }

    @Test func bodyEndingWithoutFinishReasonIsNotDone() throws {
        var translator = Self.translator(includeUsage: true)
        let events = try translator.translate(sseEvent(Self.first))
        #expect(!events.isEmpty)
        #expect(try translator.finish().isEmpty)
    }

    @Test func functionCallsBecomeIndexedToolCallDeltasAndToolCallsFinish() throws {
        var translator = Self.translator()
        var events = try translator.translate(
            sseEvent(
                #"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"SIG"}]},"index":0}]}"#
            )
        )
        events += try translator.translate(
            sseEvent(
                #"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Lyon"}}}]},"finishReason":"STOP","index":0}]}"#
            )
        )
        events += try translator.finish()
        let objects = chunks(events)
        let first = """
            [{"index":0,"finish_reason":null,"delta":{"tool_calls":[{"index":0,"id":"call_s1","type":"function",
              "function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"},"extra_content":{"google":{"thought_signature":"SIG"}}}]}}]
            """
        #expect(sameJSON(try #require(objects[1]["choices"]), first), "\(objects[1].text)")
        let second = """
            [{"index":0,"finish_reason":null,"delta":{"tool_calls":[{"index":1,"id":"call_s2","type":"function",
              "function":{"name":"get_weather","arguments":"{\\"city\\":\\"Lyon\\"}"}}]}}]
            """
        #expect(sameJSON(try #require(objects[2]["choices"]), second), "\(objects[2].text)")
        #expect(objects[3]["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "tool_calls")
        #expect(events.last == .done)
    }

    @Test func malformedFunctionCallInAStreamThrows() throws {
        var translator = Self.translator()
        _ = try translator.translate(sseEvent(Self.first))
        #expect(throws: ProviderError.self) {
            try translator.translate(sseEvent(#"{"candidates":[{"finishReason":"MALFORMED_FUNCTION_CALL","index":0}]}"#))
        }
    }

    @Test func errorObjectInTheStreamThrowsItsMappedKind() throws {
        var translator = Self.translator()
        do {
            _ = try translator.translate(sseEvent(#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#))
            Issue.record("expected an error")
        } catch let error as ProviderError {
            #expect(error.kind == .server)
            #expect(error.upstreamError?.message == "The model is overloaded.")
        }
    }

    @Test func blockedPromptFinishesEveryChoiceWithContentFilter() throws {
        var translator = Self.translator(choiceCount: 2)
        var events = try translator.translate(sseEvent(#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}}"#))
        events += try translator.finish()
        let finishes = chunks(events).compactMap { $0["choices"]?.arrayValue?.first }.filter { $0["finish_reason"]?.stringValue != nil }
        #expect(finishes.map { $0["index"]?.intValue } == [0, 1])
        #expect(finishes.allSatisfy { $0["finish_reason"]?.stringValue == "content_filter" })
        #expect(events.last == .done)
    }

    @Test func twoCandidatesAreDoneOnlyWhenBothFinished() throws {
        var translator = Self.translator(choiceCount: 2)
        _ = try translator.translate(
            sseEvent(
                #"{"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":"STOP","index":0},{"content":{"parts":[{"text":"b"}]},"index":1}]}"#
            )
        )
        #expect(try translator.finish().isEmpty)
    }

    @Test func nonJSONEventIsAProtocolError() throws {
        var translator = Self.translator()
        #expect(throws: ProviderError.self) { try translator.translate(sseEvent("{not json")) }
    }
}

/// Gemini error bodies → OpenAI errors.
@Suite struct GeminiErrorMappingTests {
    static func map(_ status: Int, _ body: String) -> ProviderError {
        GeminiErrorMapping.error(status: .init(code: status), body: ByteBuffer(string: body), provider: "gem")
    }

    @Test func invalidArgumentIsAClient400WithGeminisMessage() {
        let error = Self.map(
            400,
            #"{"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified","status":"INVALID_ARGUMENT"}}"#
        )
        #expect(error.kind == .client)
        #expect(error.upstreamError?.status == .badRequest)
        #expect(error.upstreamError?.type == "invalid_request_error")
        #expect(error.upstreamError?.message == "* GenerateContentRequest.contents: contents is not specified")
    }

    @Test func invalidAPIKeyIsTheGatewaysCredentialProblem() {
        let error = Self.map(
            400,
            #"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#
        )
        #expect(error.kind == .authentication)
        #expect(error.upstreamError?.code == "upstream_authentication_failed")
        #expect(error.upstreamError?.message.contains("API key not valid") == false)
        #expect(Self.map(403, #"{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}"#).kind == .authentication)
    }

    @Test func notFoundIsModelNotFound() {
        let error = Self.map(
            404,
            #"{"error":{"code":404,"message":"models/gemini-foo is not found for API version v1beta","status":"NOT_FOUND"}}"#
        )
        #expect(error.kind == .client)
        #expect(error.upstreamError?.status == .notFound)
        #expect(error.upstreamError?.code == "model_not_found")
    }

    @Test func resourceExhaustedIsRateLimitedWithRetryAfterFromRetryInfo() {
        let error = Self.map(
            429,
            """
            [{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[
              {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
              {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"33.2s"}]}}]
            """
        )
        #expect(error.kind == .rateLimited)
        #expect(error.upstreamError?.status == .tooManyRequests)
        #expect(error.upstreamError?.code == "rate_limit_exceeded")
        #expect(error.upstreamError?.retryAfterSeconds == 34)
    }

    @Test func dailyQuotaIsInsufficientQuota() {
        let error = Self.map(
            429,
            #"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}"#
        )
        #expect(error.kind == .rateLimited)
        #expect(error.upstreamError?.code == "insufficient_quota")
        #expect(error.upstreamError?.retryAfterSeconds == nil)
    }

    @Test(arguments: [500, 503, 504])
    func serverErrorsAreRetryable(status: Int) {
        let error = Self.map(
            status,
            #"{"error":{"code":\#(status),"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}"#
        )
        #expect(error.kind == .server)
        #expect(error.upstreamError?.status.code == status)
        #expect(error.upstreamError?.type == "server_error")
    }

    @Test func nonJSONBodyFallsBackToTheGenericMapping() {
        let error = Self.map(502, "<html>Bad Gateway</html>")
        #expect(error.kind == .server)
        #expect(error.upstreamError?.status.code == 502)
    }
}

/// Embeddings, model lists and URLs.
@Suite struct GeminiEmbeddingsAndModelsTests {
    @Test func embeddingsRequestIsOneBatchEntryPerInput() throws {
        let request = try EmbeddingsRequest.parse(ByteBuffer(string: #"{"model":"e","input":["first","second"],"dimensions":768}"#))
        let body = try GeminiEmbeddingsTranslator.request(for: request, model: "models/gemini-embedding-001")
        let expected = """
            {"requests":[
              {"model":"models/gemini-embedding-001","content":{"parts":[{"text":"first"}]},"outputDimensionality":768},
              {"model":"models/gemini-embedding-001","content":{"parts":[{"text":"second"}]},"outputDimensionality":768}]}
            """
        #expect(sameJSON(body, expected))
    }

    @Test func tokenInputsAreA400() throws {
        let request = try EmbeddingsRequest.parse(ByteBuffer(string: #"{"model":"e","input":[1,2,3]}"#))
        do {
            _ = try GeminiEmbeddingsTranslator.request(for: request, model: "e")
            Issue.record("expected an error")
        } catch {
            #expect(error.status == .badRequest)
            #expect(error.param == "input")
        }
    }

    @Test func embeddingsAnswerBecomesVectorsInOrder() throws {
        let vectors = try GeminiEmbeddingsTranslator.vectors(
            from: json(#"{"embeddings":[{"values":[0.5,-1]},{"values":[0.25,2e-1]}]}"#),
            expectedCount: 2
        )
        #expect(vectors == [[0.5, -1], [0.25, 0.2]])
        #expect(throws: ProviderError.self) {
            try GeminiEmbeddingsTranslator.vectors(from: json(#"{"embeddings":[{"values":[1]}]}"#), expectedCount: 2)
        }
    }

    @Test func modelListKeepsChatAndEmbeddingModelsWithoutPrefix() throws {
        let page = GeminiModelList(
            try json(
                """
                {"models":[
                  {"name":"models/gemini-2.5-flash","supportedGenerationMethods":["generateContent","countTokens"]},
                  {"name":"models/gemini-embedding-001","supportedGenerationMethods":["embedContent"]},
                  {"name":"models/aqa","supportedGenerationMethods":["generateAnswer"]},
                  {"name":"models/imagen-3","supportedGenerationMethods":["predict"]}],
                 "nextPageToken":"tok"}
                """
            )
        )
        #expect(page.names == ["gemini-2.5-flash", "gemini-embedding-001"])
        #expect(page.nextPageToken == "tok")
    }

    @Test(arguments: [
        ("https://generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com/v1beta"),
        ("https://generativelanguage.googleapis.com/", "https://generativelanguage.googleapis.com/v1beta"),
        ("https://generativelanguage.googleapis.com/v1beta", "https://generativelanguage.googleapis.com/v1beta"),
        ("https://generativelanguage.googleapis.com/v1beta/", "https://generativelanguage.googleapis.com/v1beta"),
        ("http://127.0.0.1:8080/proxy", "http://127.0.0.1:8080/proxy/v1beta"),
    ])
    func baseURLsAreAcceptedWithOrWithoutVersion(baseURL: String, root: String) {
        #expect(GeminiProvider.baseURLNormalization.apiRoot(from: baseURL) == root)
    }

    @Test func toolCallMemoryForgetsTheOldestBeyondItsCapacity() {
        let memory = GeminiToolCallMemory(capacity: 2)
        for id in ["a", "b", "c"] { memory.remember(.init(thoughtSignature: id, isUpstreamID: false), forToolCall: id) }
        #expect(memory.record(forToolCall: "a") == nil)
        #expect(memory.record(forToolCall: "b")?.thoughtSignature == "b")
        #expect(memory.record(forToolCall: "c")?.thoughtSignature == "c")
    }
}

/// A thread-safe counter for deterministic ids in tests.
final class GeminiTestCounter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock {
            $0 += 1; return $0
        }
    }
}
