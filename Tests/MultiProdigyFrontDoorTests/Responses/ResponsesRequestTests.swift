import MultiProdigyCore
import MultiProdigyJSON
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct ResponsesRequestTests {
    @Test func stringInputBecomesOneUserMessage() throws {
        let request = try ResponsesFixture.request(#"{"model":"fast","input":"Hello!"}"#)
        #expect(request.model == "fast")
        #expect(!request.isStreaming)
        #expect(request.store)
        #expect(request.previousResponseID == nil)
        #expect(request.builtInTools.isEmpty)
        #expect(
            request.inputItems == [
                try ResponsesFixture.json(
                    #"{"id":"msg_00000000000000010000000000000002","type":"message","status":"completed","role":"user","content":[{"type":"input_text","text":"Hello!"}]}"#
                )
            ]
        )
        #expect(
            try JSONValue.parse(request.chatBody(history: []))
                == ResponsesFixture.json(#"{"model":"fast","messages":[{"role":"user","content":"Hello!"}]}"#)
        )
    }

    @Test func instructionsComeFirstAsASystemMessage() throws {
        let chat = try ResponsesFixture.chat(#"{"model":"m","instructions":"Be brief.","input":"Hi"}"#)
        #expect(
            chat["messages"] == (try ResponsesFixture.json(#"[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]"#))
        )
    }

    @Test func everyItemKindIsNormalisedAndTranslated() throws {
        let request = try ResponsesFixture.request(
            #"""
            {"model":"m","input":[
              {"role":"developer","content":"Rules."},
              {"type":"message","role":"system","content":[{"type":"input_text","text":"More rules."}]},
              {"role":"user","content":[{"type":"input_text","text":"What is this?"},
                                        {"type":"input_image","image_url":"https://example.com/a.png","detail":"low"}]},
              {"id":"rs_1","type":"reasoning","summary":[]},
              {"id":"msg_9","type":"message","role":"assistant","status":"completed","phase":"final_answer",
               "content":[{"type":"output_text","text":"A cat.","annotations":[]}]},
              {"role":"user","content":"Thanks"}
            ]}
            """#
        )
        #expect(
            request.inputItems
                == (try ResponsesFixture.json(
                    #"""
                    [{"id":"msg_00000000000000010000000000000002","type":"message","status":"completed","role":"developer","content":[{"type":"input_text","text":"Rules."}]},
                     {"id":"msg_00000000000000030000000000000004","type":"message","status":"completed","role":"system","content":[{"type":"input_text","text":"More rules."}]},
                     {"id":"msg_00000000000000050000000000000006","type":"message","status":"completed","role":"user",
                      "content":[{"type":"input_text","text":"What is this?"},{"type":"input_image","image_url":"https://example.com/a.png","detail":"low"}]},
                     {"id":"rs_1","type":"reasoning","summary":[]},
                     {"id":"msg_9","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"A cat.","annotations":[]}],"phase":"final_answer"},
                     {"id":"msg_00000000000000070000000000000008","type":"message","status":"completed","role":"user","content":[{"type":"input_text","text":"Thanks"}]}]
                    """#
                ).arrayValue)
        )
        #expect(
            try JSONValue.parse(request.chatBody(history: []))["messages"]
                == ResponsesFixture.json(
                    #"""
                    [{"role":"system","content":"Rules."},
                     {"role":"system","content":"More rules."},
                     {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"low"}}]},
                     {"role":"assistant","content":"A cat."},
                     {"role":"user","content":"Thanks"}]
                    """#
                )
        )
    }

    @Test func functionCallsAndOutputsBecomeToolCallsAndToolMessages() throws {
        let request = try ResponsesFixture.request(
            #"""
            {"model":"m","input":[
              {"role":"user","content":"Weather in Paris and Rome?"},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
              {"type":"function_call","id":"fc_1","call_id":"call_a","name":"weather","arguments":"{\"city\":\"Paris\"}"},
              {"type":"function_call","call_id":"call_b","name":"weather","arguments":"{\"city\":\"Rome\"}"},
              {"type":"function_call_output","call_id":"call_a","output":"18C"},
              {"type":"function_call_output","call_id":"call_b","output":[{"type":"input_text","text":"21"},{"type":"input_text","text":"C"}]},
              {"type":"function_call","call_id":"call_c","name":"clock","arguments":"{}"}
            ]}
            """#
        )
        #expect(
            request.inputItems[2]
                == (try ResponsesFixture.json(
                    #"{"id":"fc_1","type":"function_call","status":"completed","arguments":"{\"city\":\"Paris\"}","call_id":"call_a","name":"weather"}"#
                ))
        )
        #expect(
            request.inputItems[4]
                == (try ResponsesFixture.json(
                    #"{"id":"fco_00000000000000070000000000000008","type":"function_call_output","status":"completed","call_id":"call_a","output":"18C"}"#
                ))
        )
        #expect(
            try JSONValue.parse(request.chatBody(history: []))["messages"]
                == ResponsesFixture.json(
                    #"""
                    [{"role":"user","content":"Weather in Paris and Rome?"},
                     {"role":"assistant","content":"Checking.","tool_calls":[
                       {"id":"call_a","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}},
                       {"id":"call_b","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Rome\"}"}}]},
                     {"role":"tool","tool_call_id":"call_a","content":"18C"},
                     {"role":"tool","tool_call_id":"call_b","content":"21C"},
                     {"role":"assistant","content":null,"tool_calls":[{"id":"call_c","type":"function","function":{"name":"clock","arguments":"{}"}}]}]
                    """#
                )
        )
    }

    @Test func historyComesAfterInstructionsAndBeforeTheInput() throws {
        let previous = try #require(
            try ResponsesFixture.json(
                #"""
                [{"id":"msg_1","type":"message","status":"completed","role":"user","content":[{"type":"input_text","text":"My name is Ann."}]},
                 {"id":"rs_r_0","type":"reasoning","status":"completed","summary":[],"content":[{"type":"reasoning_text","text":"greet"}]},
                 {"id":"msg_r_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi Ann.","annotations":[]}]}]
                """#
            ).arrayValue
        )
        let chat = try ResponsesFixture.chat(
            #"{"model":"m","instructions":"Be kind.","previous_response_id":"resp_r","input":"What is my name?"}"#,
            history: previous
        )
        #expect(
            chat["messages"]
                == (try ResponsesFixture.json(
                    #"""
                    [{"role":"system","content":"Be kind."},
                     {"role":"user","content":"My name is Ann."},
                     {"role":"assistant","content":"Hi Ann."},
                     {"role":"user","content":"What is my name?"}]
                    """#
                ))
        )
    }

    @Test func settingsAreTranslatedAndStreamingAsksForUsage() throws {
        let request = try ResponsesFixture.request(
            #"""
            {"model":"m","input":"Hi","stream":true,"store":false,"max_output_tokens":256,"temperature":0.20,"top_p":1,
             "user":"u-1","metadata":{"team":"a"},"reasoning":{"effort":"low","summary":"auto"},"truncation":"auto"}
            """#
        )
        #expect(request.isStreaming)
        #expect(!request.store)
        #expect(
            try JSONValue.parse(request.chatBody(history: []))
                == ResponsesFixture.json(
                    #"""
                    {"model":"m","messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":256,"temperature":0.20,"top_p":1,
                     "reasoning_effort":"low","user":"u-1","stream":true,"stream_options":{"include_usage":true}}
                    """#
                )
        )
    }

    @Test(
        arguments: [
            (#"{"format":{"type":"text"}}"#, nil),
            (#"{"format":{"type":"json_object"}}"#, #"{"type":"json_object"}"#),
            (
                #"{"format":{"type":"json_schema","name":"city","schema":{"type":"object"},"strict":true,"description":"A city."}}"#,
                #"{"type":"json_schema","json_schema":{"name":"city","schema":{"type":"object"},"strict":true,"description":"A city."}}"#
            ),
            (
                #"{"format":{"type":"json_schema","name":"city","schema":{}}}"#,
                #"{"type":"json_schema","json_schema":{"name":"city","schema":{}}}"#
            ),
        ] as [(String, String?)]
    )
    func textFormatBecomesResponseFormat(text: String, responseFormat: String?) throws {
        let chat = try ResponsesFixture.chat(#"{"model":"m","input":"Hi","text":\#(text)}"#)
        #expect(chat["response_format"] == (try responseFormat.map(ResponsesFixture.json)))
    }

    @Test func functionToolsAndToolChoiceBecomeChatTools() throws {
        let chat = try ResponsesFixture.chat(
            #"""
            {"model":"m","input":"Hi","parallel_tool_calls":false,"tool_choice":{"type":"function","name":"weather"},
             "tools":[{"type":"function","name":"weather","description":"Weather now.","parameters":{"type":"object"},"strict":true},
                      {"type":"function","name":"clock"}]}
            """#
        )
        #expect(
            chat["tools"]
                == (try ResponsesFixture.json(
                    #"""
                    [{"type":"function","function":{"name":"weather","description":"Weather now.","parameters":{"type":"object"},"strict":true}},
                     {"type":"function","function":{"name":"clock"}}]
                    """#
                ))
        )
        #expect(chat["tool_choice"] == (try ResponsesFixture.json(#"{"type":"function","function":{"name":"weather"}}"#)))
        #expect(chat["parallel_tool_calls"] == false)
    }

    @Test(arguments: ["none", "auto", "required"])
    func toolChoiceModesAreCopied(mode: String) throws {
        let chat = try ResponsesFixture.chat(
            #"{"model":"m","input":"Hi","tool_choice":"\#(mode)","tools":[{"type":"function","name":"f"}]}"#
        )
        #expect(chat["tool_choice"] == .string(mode))
    }

    @Test func toolChoiceAndParallelCallsAreLeftOutWithoutFunctionTools() throws {
        // Chat refuses `tool_choice` and `parallel_tool_calls` without `tools`.
        let chat = try ResponsesFixture.chat(#"{"model":"m","input":"Hi","tool_choice":"none","parallel_tool_calls":true}"#)
        #expect(chat == (try ResponsesFixture.json(#"{"model":"m","messages":[{"role":"user","content":"Hi"}]}"#)))
    }

    @Test func builtInToolsAreCollectedNotRefused() throws {
        let request = try ResponsesFixture.request(
            #"""
            {"model":"m","input":"Hi","tool_choice":{"type":"file_search"},
             "tools":[{"type":"web_search_preview"},{"type":"function","name":"f"},{"type":"mcp","server_label":"x"},{"type":"web_search_preview"},
                      {"type":"code_interpreter","container":{"type":"auto"}}]}
            """#
        )
        #expect(request.builtInTools == ["web_search_preview", "mcp", "code_interpreter", "file_search"])
        let chat = try JSONValue.parse(request.chatBody(history: []))
        #expect(chat["tools"] == (try ResponsesFixture.json(#"[{"type":"function","function":{"name":"f"}}]"#)))
        #expect(chat["tool_choice"] == nil)
    }

    @Test func echoedSettingsFillOpenAIsDefaults() throws {
        let request = try ResponsesFixture.request(#"{"model":"m","input":"Hi"}"#)
        #expect(
            JSONValue.object(request.echoedSettings)
                == (try ResponsesFixture.json(
                    #"""
                    {"instructions":null,"max_output_tokens":null,"metadata":{},"parallel_tool_calls":true,"previous_response_id":null,
                     "reasoning":{"effort":null,"summary":null},"store":true,"temperature":null,"text":{"format":{"type":"text"}},
                     "tool_choice":"auto","tools":[],"top_p":null,"user":null}
                    """#
                ))
        )
    }

    @Test func echoedSettingsRepeatWhatWasGiven() throws {
        let request = try ResponsesFixture.request(
            #"""
            {"model":"m","input":"Hi","instructions":"I","max_output_tokens":100,"metadata":{"k":"v"},"parallel_tool_calls":false,
             "previous_response_id":"resp_p","reasoning":{"effort":"high"},"store":false,"temperature":0.5,
             "text":{"format":{"type":"json_object"},"verbosity":"low"},"tool_choice":"required",
             "tools":[{"type":"function","name":"f"}],"top_p":0.9,"user":"u"}
            """#
        )
        #expect(
            JSONValue.object(request.echoedSettings)
                == (try ResponsesFixture.json(
                    #"""
                    {"instructions":"I","max_output_tokens":100,"metadata":{"k":"v"},"parallel_tool_calls":false,"previous_response_id":"resp_p",
                     "reasoning":{"effort":"high","summary":null},"store":false,"temperature":0.5,"text":{"format":{"type":"json_object"},"verbosity":"low"},
                     "tool_choice":"required","tools":[{"type":"function","name":"f"}],"top_p":0.9,"user":"u"}
                    """#
                ))
        )
        #expect(request.previousResponseID == "resp_p")
        #expect(request.instructions == "I")
    }

    @Test func inputItemsWithoutIDsGetRandomOnes() throws {
        let request = try ResponsesRequest.parse(ByteBuffer(string: #"{"model":"m","input":"Hi"}"#))
        let id = try #require(request.inputItems.first?["id"]?.stringValue)
        #expect(id.hasPrefix("msg_"))
        #expect(id.count == 4 + 32)
        #expect(id.dropFirst(4).allSatisfy { $0.isHexDigit })
    }
}
