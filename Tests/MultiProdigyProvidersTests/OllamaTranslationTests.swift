import HTTPTypes
import NIOCore
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyJSON
@testable import MultiProdigyProviders
@testable import MultiProdigyCore

/// Pure translation between OpenAI's chat shapes and Ollama's native `/api/chat`, `/api/embed` and
/// `/api/tags`, with fixtures in Ollama's documented wire format.
@Suite struct OllamaTranslationTests {
    private func translate(_ request: String, stream: Bool = false, settings: OllamaSettings = OllamaSettings()) throws -> JSONValue {
        try OllamaRequestTranslation.chatRequest(from: JSONValue.parse(request), model: "llama3.2", stream: stream, settings: settings)
    }

    private func requestError(_ request: String) throws -> GatewayError {
        do {
            _ = try translate(request)
        } catch let error as GatewayError {
            return error
        }
        Issue.record("expected the translation to fail")
        return GatewayError(status: .ok, message: "", type: "")
    }

    // MARK: Request

    @Test func fullRequestMapsRolesToolsImagesFormatAndOptions() throws {
        let request = #"""
            {"model":"m","messages":[
              {"role":"system","content":"You are terse."},
              {"role":"developer","content":[{"type":"text","text":"Answer in JSON."}]},
              {"role":"user","content":[{"type":"text","text":"what is the weather in Toronto?"},{"type":"text","text":"and here?"},
                {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Toronto\",\"days\":2}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"11 degrees celsius"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Get the weather in a given city",
               "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
             "tool_choice":"auto","parallel_tool_calls":true,"user":"u-1","logit_bias":{"1":2},
             "response_format":{"type":"json_schema","json_schema":{"name":"answer","strict":true,
               "schema":{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}}},
             "temperature":0.2,"top_p":0.9,"max_tokens":256,"stop":"\nEND","seed":42,"presence_penalty":0.5,"frequency_penalty":0.25,
             "stream":true,"stream_options":{"include_usage":true}}
            """#
        let settings = OllamaSettings(contextLength: 8192, keepAlive: "5m")
        let body = try translate(request, settings: settings)
        let expected = try JSONValue.parse(
            #"""
            {"model":"llama3.2","messages":[
              {"role":"system","content":"You are terse."},
              {"role":"system","content":"Answer in JSON."},
              {"role":"user","content":"what is the weather in Toronto?\nand here?","images":["iVBORw0KGgo="]},
              {"role":"assistant","content":"","tool_calls":[{"id":"call_1","function":{"name":"get_weather","arguments":{"city":"Toronto","days":2}}}]},
              {"role":"tool","content":"11 degrees celsius","tool_name":"get_weather","tool_call_id":"call_1"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Get the weather in a given city",
               "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
             "format":{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]},
             "options":{"temperature":0.2,"top_p":0.9,"seed":42,"presence_penalty":0.5,"frequency_penalty":0.25,"num_predict":256,"stop":["\nEND"],"num_ctx":8192},
             "keep_alive":"5m","stream":false}
            """#
        )
        #expect(body.text == expected.text)
    }

    @Test func streamIsAlwaysSentExplicitly() throws {
        let request = #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#
        #expect(
            try translate(request, stream: true).text == #"{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":true}"#
        )
        #expect(
            try translate(request, stream: false).text
                == #"{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}"#
        )
    }

    @Test func maxCompletionTokensWinsAndStopArraysAndJSONObjectFormatMap() throws {
        let body = try translate(
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":10,"max_completion_tokens":20,"stop":["a","b"],"response_format":{"type":"json_object"},"top_k":40,"keep_alive":"ignored"}"#
        )
        #expect(body["options"]?.text == #"{"top_k":40,"num_predict":20,"stop":["a","b"]}"#)
        #expect(body["format"] == "json")
        #expect(body["keep_alive"] == nil, "keep_alive comes from the provider's options, not the client")
    }

    @Test func textResponseFormatAndNullFieldsAddNothing() throws {
        let body = try translate(
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"text"},"temperature":null,"stop":null,"max_completion_tokens":null,"max_tokens":5}"#
        )
        #expect(body["format"] == nil)
        #expect(body["options"]?.text == #"{"num_predict":5}"#)
    }

    @Test func keepAliveInSecondsIsSentAsANumber() throws {
        let body = try translate(
            #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
            settings: OllamaSettings(keepAlive: .integer(-1))
        )
        #expect(body["keep_alive"] == .number("-1"))
    }

    @Test func toolChoiceNoneWithholdsTheTools() throws {
        let body = try translate(
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":"none","tools":[{"type":"function","function":{"name":"f","parameters":{}}}]}"#
        )
        #expect(body["tools"] == nil)
    }

    @Test func toolResultWithUnknownCallIDKeepsTheIDWithoutAName() throws {
        let body = try translate(
            #"{"model":"m","messages":[{"role":"tool","tool_call_id":"call_x","content":[{"type":"text","text":"42"}]}]}"#
        )
        #expect(body["messages"]?.text == #"[{"role":"tool","content":"42","tool_call_id":"call_x"}]"#)
    }

    @Test func legacyFunctionMessageBecomesAToolMessageWithItsName() throws {
        let body = try translate(#"{"model":"m","messages":[{"role":"function","name":"lookup","content":"found"}]}"#)
        #expect(body["messages"]?.text == #"[{"role":"tool","content":"found","tool_name":"lookup"}]"#)
    }

    @Test func emptyToolArgumentsBecomeAnEmptyObject() throws {
        let body = try translate(
            #"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"now","arguments":""}}]}]}"#
        )
        #expect(
            body["messages"]?.text
                == #"[{"role":"assistant","content":"","tool_calls":[{"id":"c","function":{"name":"now","arguments":{}}}]}]"#
        )
    }

    @Test func remoteImageURLIsRefusedWithAHintToSendADataURL() throws {
        let error = try requestError(
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}"#
        )
        #expect(error.status == .badRequest)
        #expect(error.code == "unsupported_parameter")
        #expect(error.param == "messages[0].content[0].image_url.url")
        #expect(error.message.contains("data URL"))
        #expect(error.message.contains("https://example.com/cat.png"))
    }

    @Test func dataURLThatIsNotBase64IsRefused() throws {
        let error = try requestError(
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml,%3Csvg%3E"}}]}]}"#
        )
        #expect(error.code == "invalid_image_url")
        #expect(error.message.contains("base64"))
    }

    @Test func toolArgumentsThatAreNotAJSONObjectAreRefused() throws {
        let error = try requestError(
            #"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{not json"}}]}]}"#
        )
        #expect(error.param == "messages[0].tool_calls[0].function.arguments")
        #expect(error.status == .badRequest)
    }

    @Test func moreThanOneChoiceIsRefused() throws {
        let error = try requestError(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"n":3}"#)
        #expect(error.param == "n")
        #expect(error.message.contains("one choice"))
    }

    @Test func audioPartsAndUnknownRolesAreRefused() throws {
        let audio = try requestError(
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]}]}"#
        )
        #expect(audio.param == "messages[0].content[0].type")
        #expect(audio.message.contains("'input_audio'"))
        let role = try requestError(#"{"model":"m","messages":[{"role":"critic","content":"hm"}]}"#)
        #expect(role.param == "messages[0].role")
    }

    @Test func jsonSchemaFormatWithoutASchemaIsRefused() throws {
        let error = try requestError(
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}"#
        )
        #expect(error.param == "response_format.json_schema.schema")
    }

    // MARK: Non-streaming response

    @Test func textAnswerBecomesAChatCompletionWithUsage() throws {
        let answer = try JSONValue.parse(
            #"""
            {"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":"The sky is blue.","thinking":"hmm"},
             "done_reason":"stop","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,
             "eval_count":282,"eval_duration":4535599000,"remote_model":"x"}
            """#
        )
        let completion = try OllamaResponseTranslation.completion(
            from: answer,
            id: "chatcmpl-abc",
            created: 1_700_000_000,
            model: "llama3.2"
        )
        #expect(
            completion.text
                == #"{"id":"chatcmpl-abc","object":"chat.completion","created":1700000000,"model":"llama3.2","choices":[{"index":0,"message":{"role":"assistant","content":"The sky is blue."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":26,"completion_tokens":282,"total_tokens":308}}"#
        )
    }

    @Test func toolCallsGetJSONStringArgumentsAndIDsAndFinishAsToolCalls() throws {
        let answer = try JSONValue.parse(
            #"""
            {"model":"llama3.2","created_at":"2025-07-07T20:32:53.844124Z","message":{"role":"assistant","content":"",
              "tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}},
                            {"id":"call_k2v9x0qa","function":{"index":1,"name":"get_time","arguments":{"zone":"JST","verbose":true}}}]},
             "done_reason":"stop","done":true,"eval_count":18}
            """#
        )
        let completion = try OllamaResponseTranslation.completion(from: answer, id: "chatcmpl-abc", created: 1, model: "llama3.2")
        let message = try #require(completion["choices"]?.arrayValue?.first?["message"])
        #expect(
            message.text
                == #"{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}},{"id":"call_k2v9x0qa","type":"function","function":{"name":"get_time","arguments":"{\"zone\":\"JST\",\"verbose\":true}"}}]}"#
        )
        #expect(completion["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
        #expect(
            completion["usage"]?.text == #"{"prompt_tokens":0,"completion_tokens":18,"total_tokens":18}"#,
            "a cached prompt has no prompt_eval_count"
        )
    }

    @Test func answerWithoutAMessageIsAProtocolViolation() throws {
        let answer = try JSONValue.parse(#"{"model":"llama3.2","done":true}"#)
        #expect(throws: ProviderError.self) {
            try OllamaResponseTranslation.completion(from: answer, id: "chatcmpl-a", created: 1, model: "m")
        }
    }

    @Test(
        arguments: [
            ("stop", false, "stop"), ("stop", true, "tool_calls"), ("length", false, "length"), ("length", true, "length"),
            ("load", false, "stop"), ("unload", false, "stop"), ("", false, "stop"), (nil, false, "stop"), (nil, true, "tool_calls"),
        ] as [(String?, Bool, String)]
    )
    func doneReasonMapsToFinishReason(doneReason: String?, hasToolCalls: Bool, expected: String) {
        #expect(OllamaResponseTranslation.finishReason(doneReason: doneReason, hasToolCalls: hasToolCalls) == expected)
    }

    @Test func tagsListTheModelNames() throws {
        let tags = try JSONValue.parse(
            #"""
            {"models":[{"name":"llama3.2:latest","model":"llama3.2:latest","modified_at":"2025-05-04T17:37:44.706015396-07:00","size":2019393189,
              "digest":"a80c4f17","details":{"format":"gguf","family":"llama","parameter_size":"3.2B","quantization_level":"Q4_K_M"}},
              {"model":"all-minilm:latest"}]}
            """#
        )
        #expect(try OllamaResponseTranslation.modelNames(from: tags) == ["llama3.2:latest", "all-minilm:latest"])
    }

    // MARK: Stream

    private func run(_ lines: [String], includeUsage: Bool = false) throws -> (events: [String], translator: OllamaStreamTranslator) {
        var translator = OllamaStreamTranslator(id: "chatcmpl-abc", created: 1_700_000_000, model: "llama3.2", includeUsage: includeUsage)
        var events: [ChatStreamEvent] = []
        for line in lines { events += try translator.translate(ByteBuffer(string: line)) }
        events += try translator.finish()
        let texts = events.map { event in
            switch event {
            case .chunk(let buffer): String(buffer: buffer)
            case .done: "[DONE]"
            }
        }
        return (texts, translator)
    }

    private static func chunk(_ delta: String, finish: String = "null") -> String {
        #"{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,"model":"llama3.2","choices":[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(finish)}]}"#
    }

    static let textLines = [
        #"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The"},"done":false}"#,
        #"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.405406455-07:00","message":{"role":"assistant","content":" sky","thinking":""},"done":false}"#,
        #"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
    ]

    @Test func textStreamBecomesRoleContentFinishUsageAndDone() throws {
        let (events, _) = try run(Self.textLines, includeUsage: true)
        #expect(
            events == [
                Self.chunk(#"{"role":"assistant","content":""}"#),
                Self.chunk(#"{"content":"The"}"#),
                Self.chunk(#"{"content":" sky"}"#),
                Self.chunk("{}", finish: #""stop""#),
                #"{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,"model":"llama3.2","choices":[],"usage":{"prompt_tokens":26,"completion_tokens":282,"total_tokens":308}}"#,
                "[DONE]",
            ]
        )
    }

    @Test func usageChunkOnlyWhenAskedFor() throws {
        let (events, _) = try run(Self.textLines, includeUsage: false)
        #expect(events.count == 5)
        #expect(!events.contains { $0.contains("usage") })
        #expect(events.last == "[DONE]")
    }

    @Test func thinkingOnlyLinesEmitNothingButTheRole() throws {
        let (events, _) = try run([
            #"{"model":"qwen3","message":{"role":"assistant","content":"","thinking":"Let me think"},"done":false}"#,
            #"{"model":"qwen3","message":{"role":"assistant","content":"42"},"done":false}"#,
        ])
        #expect(events == [Self.chunk(#"{"role":"assistant","content":""}"#), Self.chunk(#"{"content":"42"}"#)])
    }

    @Test func toolCallsStreamAsCompleteIndexedDeltasAndFinishAsToolCalls() throws {
        let lines = [
            #"{"model":"llama3.2","created_at":"2025-07-07T20:32:53Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}}]},"done":false}"#,
            #"{"model":"llama3.2","created_at":"2025-07-07T20:32:53Z","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_zz","function":{"index":1,"name":"get_time","arguments":{}}}]},"done":false}"#,
            #"{"model":"llama3.2","created_at":"2025-07-07T20:32:54Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"prompt_eval_count":169,"eval_count":18}"#,
        ]
        let (events, _) = try run(lines, includeUsage: true)
        #expect(
            events == [
                Self.chunk(#"{"role":"assistant","content":""}"#),
                Self.chunk(
                    #"{"tool_calls":[{"index":0,"id":"call_abc_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}}]}"#
                ),
                Self.chunk(
                    #"{"tool_calls":[{"index":1,"id":"call_zz","type":"function","function":{"name":"get_time","arguments":"{}"}}]}"#
                ),
                Self.chunk("{}", finish: #""tool_calls""#),
                #"{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,"model":"llama3.2","choices":[],"usage":{"prompt_tokens":169,"completion_tokens":18,"total_tokens":187}}"#,
                "[DONE]",
            ]
        )
    }

    @Test func lengthDoneReasonFinishesWithLength() throws {
        let (events, _) = try run([#"{"message":{"role":"assistant","content":"cut"},"done_reason":"length","done":true,"eval_count":1}"#])
        #expect(
            events == [
                Self.chunk(#"{"role":"assistant","content":""}"#), Self.chunk(#"{"content":"cut"}"#),
                Self.chunk("{}", finish: #""length""#), "[DONE]",
            ]
        )
    }

    @Test func streamEndingWithoutTheDoneLineHasNoFinishAndNoDone() throws {
        let (events, _) = try run(Array(Self.textLines.prefix(2)), includeUsage: true)
        #expect(
            events == [
                Self.chunk(#"{"role":"assistant","content":""}"#), Self.chunk(#"{"content":"The"}"#), Self.chunk(#"{"content":" sky"}"#),
            ]
        )
    }

    @Test func malformedLineIsSkippedAndCounted() throws {
        let lines = [Self.textLines[0], #"{"model":"llama3.2","message":{"#, "[1,2]", Self.textLines[1], Self.textLines[2]]
        let (events, translator) = try run(lines)
        #expect(translator.skippedLines == 2)
        #expect(
            events == [
                Self.chunk(#"{"role":"assistant","content":""}"#), Self.chunk(#"{"content":"The"}"#), Self.chunk(#"{"content":" sky"}"#),
                Self.chunk("{}", finish: #""stop""#), "[DONE]",
            ]
        )
    }

    @Test func linesAfterTheDoneLineAreIgnored() throws {
        let (events, _) = try run(Self.textLines + [Self.textLines[0]])
        #expect(events.last == "[DONE]")
        #expect(events.count == 5)
    }

    @Test func errorLineMidStreamThrowsAServerError() throws {
        var translator = OllamaStreamTranslator(id: "chatcmpl-abc", created: 1, model: "llama3.2", includeUsage: false)
        _ = try translator.translate(ByteBuffer(string: Self.textLines[0]))
        do {
            _ = try translator.translate(ByteBuffer(string: #"{"error":"an error was encountered while running the model"}"#))
            Issue.record("the error line must throw")
        } catch let error as ProviderError {
            #expect(error.kind == .server)
            #expect(error.allowsFailover)
            #expect(error.message.contains("an error was encountered while running the model"))
            #expect(error.upstreamError?.message == "an error was encountered while running the model")
        }
    }

    // MARK: Errors

    private func mapped(_ status: HTTPResponse.Status, _ body: String, model: String? = "llama3") -> ProviderError {
        OllamaErrorMapping.error(status: status, body: ByteBuffer(string: body), provider: "local", model: model, path: "/api/chat")
    }

    @Test(arguments: [
        (404, #"{"error":"model 'llama3' not found"}"#),
        (404, #"{"error":"model \"llama3\" not found, try pulling it first"}"#),
        (400, #"{"error":"model 'llama3' not found"}"#),
    ])
    func missingModelIsA404WithThePullHint(status: Int, body: String) throws {
        let error = mapped(HTTPResponse.Status(code: status), body)
        #expect(error.kind == .client)
        let upstream = try #require(error.upstreamError)
        #expect(upstream.status == .notFound)
        #expect(upstream.code == "model_not_found")
        #expect(upstream.type == "invalid_request_error")
        #expect(upstream.param == "model")
        #expect(upstream.message.contains("`ollama pull llama3`"))
        #expect(upstream.message.contains("not found"), "Ollama's own words are quoted")
    }

    @Test func capabilityErrorReachesTheClientAsA400() throws {
        let error = mapped(.badRequest, #"{"error":"\"gemma:2b\" does not support tools"}"#)
        #expect(error.kind == .client)
        #expect(error.upstreamError?.status == .badRequest)
        #expect(error.upstreamError?.message == #""gemma:2b" does not support tools"#)
        #expect(error.upstreamError?.type == "invalid_request_error")
    }

    @Test func busyServerAndRunnerFailuresAreRetryable() throws {
        let busy = mapped(.serviceUnavailable, #"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#)
        #expect(busy.kind == .server)
        #expect(busy.allowsFailover)
        #expect(busy.upstreamError?.status == .serviceUnavailable)
        #expect(busy.upstreamError?.type == "server_error")
        #expect(busy.upstreamError?.message.contains("server busy") == true)
        #expect(mapped(.internalServerError, #"{"error":"llama runner process has terminated"}"#).kind == .server)
        #expect(mapped(.tooManyRequests, #"{"error":"rate limited"}"#).kind == .rateLimited)
    }

    @Test func rejectedCredentialsAreNotRelayed() throws {
        let error = mapped(.unauthorized, #"{"error":"unauthorized: key sk-secret"}"#)
        #expect(error.kind == .authentication)
        #expect(error.upstreamError?.message.contains("sk-secret") == false)
    }

    @Test func notFoundWithoutOllamasErrorBodyPointsAtTheBaseURL() throws {
        let error = mapped(.notFound, "404 page not found")
        #expect(error.kind == .protocolViolation)
        #expect(error.message.contains("base_url"))
        #expect(error.upstreamError == nil)
    }

    @Test func notFoundWithoutAModelIsAPlainError() throws {
        let error = mapped(.notFound, #"{"error":"not found"}"#, model: nil)
        #expect(error.kind == .client)
        #expect(error.upstreamError?.code == nil)
    }

    // MARK: Embeddings

    @Test func embeddingsRequestCarriesTextsDimensionsAndSettings() throws {
        let request = try EmbeddingsRequest.parse(
            ByteBuffer(string: #"{"model":"e","input":["Why is the sky blue?","Why is the grass green?"],"dimensions":384}"#)
        )
        let settings = OllamaSettings(contextLength: 512, keepAlive: "5m", truncate: false)
        let body = try OllamaEmbeddingsTranslation.request(request, model: "all-minilm", settings: settings)
        #expect(
            body.text
                == #"{"model":"all-minilm","input":["Why is the sky blue?","Why is the grass green?"],"dimensions":384,"truncate":false,"options":{"num_ctx":512},"keep_alive":"5m"}"#
        )
        let single = try EmbeddingsRequest.parse(ByteBuffer(string: #"{"model":"e","input":"one"}"#))
        #expect(
            try OllamaEmbeddingsTranslation.request(single, model: "m", settings: OllamaSettings()).text
                == #"{"model":"m","input":["one"]}"#
        )
    }

    @Test func tokenIDInputsAreRefused() throws {
        let request = try EmbeddingsRequest.parse(ByteBuffer(string: #"{"model":"e","input":[1,2,3]}"#))
        #expect {
            try OllamaEmbeddingsTranslation.request(request, model: "m", settings: OllamaSettings())
        } throws: { error in
            (error as? GatewayError)?.param == "input" && (error as? GatewayError)?.status == .badRequest
        }
    }

    @Test func embeddingsAnswerBecomesVectorsWithPromptTokens() throws {
        let answer = try JSONValue.parse(
            #"{"model":"all-minilm","embeddings":[[0.010071029,-0.0017594862],[-0.0098027075,0.06042469]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}"#
        )
        let result = try OllamaEmbeddingsTranslation.result(from: answer, inputCount: 2)
        guard case .vectors(let vectors, let promptTokens) = result else {
            Issue.record("expected vectors")
            return
        }
        #expect(vectors == [[0.010071029, -0.0017594862], [-0.0098027075, 0.06042469]])
        #expect(promptTokens == 8)
    }

    @Test func embeddingsAnswerWithTheWrongCountIsAProtocolViolation() throws {
        let answer = try JSONValue.parse(#"{"embeddings":[[0.1]]}"#)
        #expect {
            try OllamaEmbeddingsTranslation.result(from: answer, inputCount: 2)
        } throws: { error in
            (error as? ProviderError)?.kind == .protocolViolation
        }
    }

    // MARK: Settings and base URL

    @Test func settingsAreParsedAndValidated() throws {
        let settings = try OllamaSettings.parse(["num_ctx": "8_192", "keep_alive": "1h30m", "truncate": "false"], provider: "local")
        #expect(settings == OllamaSettings(contextLength: 8192, keepAlive: "1h30m", truncate: false))
        #expect(try OllamaSettings.parse(["keep_alive": "-1"], provider: "local").keepAlive == .number("-1"))
        #expect {
            try OllamaSettings.parse(["num_ctx": "big", "numctx": "1", "keep_alive": "soon"], provider: "local")
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            let text = error.description
            return error.issues.count == 3 && text.contains("providers.local.options.num_ctx") && text.contains("did you mean 'num_ctx'?")
                && text.contains("'soon' is not a duration")
        }
    }

    @Test(arguments: ["5m", "1h", "30s", "-1s", "2.5h", "1h30m", "500ms"])
    func durationsAreAccepted(_ text: String) {
        #expect(OllamaSettings.isDuration(text))
    }

    @Test(arguments: ["", "m", "5", "5 m", "5x", "forever"])
    func nonDurationsAreRejected(_ text: String) {
        #expect(!OllamaSettings.isDuration(text))
    }

    @Test(arguments: [
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("http://127.0.0.1:11434/", "http://127.0.0.1:11434"),
        ("http://127.0.0.1:11434/v1", "http://127.0.0.1:11434"),
        ("http://127.0.0.1:11434/v1/", "http://127.0.0.1:11434"),
        ("http://gpu-box:11434/api", "http://gpu-box:11434"),
        ("https://proxy.example.com/ollama/", "https://proxy.example.com/ollama"),
    ])
    func baseURLBecomesTheServerRoot(_ baseURL: String, _ root: String) {
        #expect(OllamaProvider.serverRoot(baseURL) == root)
    }
}
