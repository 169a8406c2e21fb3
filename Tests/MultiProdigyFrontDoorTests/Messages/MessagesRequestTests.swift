import MultiProdigyCore
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct MessagesRequestTests {
    /// The chat body a Messages body translates to, as text.
    private func chatBody(_ messages: String) throws -> String {
        String(buffer: try MessagesRequest.parse(ByteBuffer(string: messages)).chatBody())
    }

    @Test func textRequestKeepsModelAndMaxTokens() throws {
        let request = try MessagesRequest.parse(
            ByteBuffer(string: #"{"model":"fast","max_tokens":100,"messages":[{"role":"user","content":"Hi"}]}"#)
        )
        #expect(request.model == "fast")
        #expect(request.maxTokens == 100)
        #expect(request.isStreaming == false)
        #expect(request.serverTools.isEmpty)
        #expect(request.chatTranslationError == nil)
        #expect(
            String(buffer: request.chatBody())
                == #"{"model":"fast","max_completion_tokens":100,"messages":[{"role":"user","content":"Hi"}]}"#
        )
    }

    @Test func systemStringBecomesFirstSystemMessage() throws {
        let body = try chatBody(
            #"{"model":"m","max_tokens":5,"system":"Be brief.","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}"#
        )
        #expect(
            body
                == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}"#
        )
    }

    @Test func systemTextBlocksAreJoinedIntoOneSystemMessage() throws {
        let body = try chatBody(
            #"{"model":"m","max_tokens":5,"system":[{"type":"text","text":"One.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Two."}],"messages":[{"role":"user","content":"Hi"}]}"#
        )
        #expect(
            body
                == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"system","content":"One.\nTwo."},{"role":"user","content":"Hi"}]}"#
        )
    }

    @Test func userTextAndImagesOfBothSourcesBecomeContentParts() throws {
        let body = try chatBody(
            #"""
            {"model":"m","max_tokens":5,"messages":[{"role":"user","content":[
              {"type":"text","text":"What is this?"},
              {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
              {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}]}
            """#
        )
        #expect(
            body
                == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},"#
                + #"{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},"#
                + #"{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]}"#
        )
    }

    @Test func severalTextBlocksStayParts() throws {
        let body = try chatBody(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}"#
        )
        #expect(
            body
                == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}"#
        )
    }

    @Test func toolUseAndToolResultBecomeToolCallsAndToolMessages() throws {
        let body = try chatBody(
            #"""
            {"model":"m","max_tokens":50,"messages":[
              {"role":"user","content":"Weather in SF and Paris?"},
              {"role":"assistant","content":[
                {"type":"text","text":"Let me check."},
                {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"location":"SF"}},
                {"type":"tool_use","id":"toolu_2","name":"get_weather","input":{"location":"Paris","unit":"c"}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"toolu_1","content":"15 C"},
                {"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"18"},{"type":"text","text":"sunny"}],"is_error":false},
                {"type":"text","text":"Thanks!"}]}],
             "tools":[{"name":"get_weather","description":"Get the weather","input_schema":{"type":"object","properties":{"location":{"type":"string"}}}}]}
            """#
        )
        #expect(
            body
                == #"{"model":"m","max_completion_tokens":50,"messages":[{"role":"user","content":"Weather in SF and Paris?"},"#
                + #"{"role":"assistant","content":"Let me check.","tool_calls":["#
                + #"{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"SF\"}"}},"#
                + #"{"id":"toolu_2","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\",\"unit\":\"c\"}"}}]},"#
                + #"{"role":"tool","tool_call_id":"toolu_1","content":"15 C"},"#
                + #"{"role":"tool","tool_call_id":"toolu_2","content":"18\nsunny"},"#
                + #"{"role":"user","content":"Thanks!"}],"#
                + #""tools":[{"type":"function","function":{"name":"get_weather","description":"Get the weather","#
                + #""parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]}"#
        )
    }

    @Test func toolOnlyAssistantTurnHasNullContentAndErrorResultKeepsItsText() throws {
        let body = try chatBody(
            #"""
            {"model":"m","max_tokens":50,"messages":[
              {"role":"user","content":"Go"},
              {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"run","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"boom","is_error":true}]}]}
            """#
        )
        #expect(
            body
                == #"{"model":"m","max_completion_tokens":50,"messages":[{"role":"user","content":"Go"},"#
                + #"{"role":"assistant","content":null,"tool_calls":[{"id":"t1","type":"function","function":{"name":"run","arguments":"{}"}}]},"#
                + #"{"role":"tool","tool_call_id":"t1","content":"boom"}]}"#
        )
    }

    @Test func imagesInToolResultsJoinTheUserMessageAfterTheToolMessages() throws {
        let body = try chatBody(
            #"""
            {"model":"m","max_tokens":50,"messages":[
              {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"screenshot","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[
                {"type":"text","text":"Here it is"},
                {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/"}}]},
                {"type":"text","text":"What do you see?"}]}]}
            """#
        )
        #expect(
            body
                == #"{"model":"m","max_completion_tokens":50,"messages":["#
                + #"{"role":"assistant","content":null,"tool_calls":[{"id":"t1","type":"function","function":{"name":"screenshot","arguments":"{}"}}]},"#
                + #"{"role":"tool","tool_call_id":"t1","content":"Here it is"},"#
                + #"{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/"}},"#
                + #"{"type":"text","text":"What do you see?"}]}]}"#
        )
    }

    @Test func thinkingBlocksAreDroppedAndAThinkingOnlyTurnIsLeftOut() throws {
        let body = try chatBody(
            #"""
            {"model":"m","max_tokens":50,"messages":[
              {"role":"user","content":"Q1"},
              {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"text","text":"A1"}]},
              {"role":"user","content":"Q2"},
              {"role":"assistant","content":[{"type":"redacted_thinking","data":"xyz"}]},
              {"role":"user","content":"Q3"}]}
            """#
        )
        #expect(
            body
                == #"{"model":"m","max_completion_tokens":50,"messages":[{"role":"user","content":"Q1"},{"role":"assistant","content":"A1"},"#
                + #"{"role":"user","content":"Q2"},{"role":"user","content":"Q3"}]}"#
        )
    }

    @Test(arguments: [
        (#"{"type":"auto"}"#, #","tool_choice":"auto""#),
        (#"{"type":"any"}"#, #","tool_choice":"required""#),
        (#"{"type":"none"}"#, #","tool_choice":"none""#),
        (#"{"type":"tool","name":"f"}"#, #","tool_choice":{"type":"function","function":{"name":"f"}}"#),
        (#"{"type":"auto","disable_parallel_tool_use":true}"#, #","tool_choice":"auto","parallel_tool_calls":false"#),
        (#"{"type":"any","disable_parallel_tool_use":false}"#, #","tool_choice":"required""#),
    ])
    func toolChoiceForms(choice: String, expected: String) throws {
        let body = try chatBody(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":"#
                + choice + "}"
        )
        #expect(
            body
                == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"user","content":"x"}],"#
                + #""tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]"# + expected + "}"
        )
    }

    @Test func toolChoiceWithoutToolsIsLeftOut() throws {
        let body = try chatBody(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"any","disable_parallel_tool_use":true}}"#
        )
        #expect(body == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"user","content":"x"}]}"#)
    }

    @Test func samplingParametersStopSequencesUserAndStream() throws {
        let request = try MessagesRequest.parse(
            ByteBuffer(
                string:
                    #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"stop_sequences":["\nEND","%%%"],"temperature":0.25,"top_p":0.9,"top_k":40,"metadata":{"user_id":"user-1"},"stream":true,"service_tier":"auto"}"#
            )
        )
        #expect(request.isStreaming)
        #expect(
            String(buffer: request.chatBody())
                == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"user","content":"x"}],"stop":["\nEND","%%%"],"temperature":0.25,"top_p":0.9,"#
                + #""user":"user-1","stream":true,"stream_options":{"include_usage":true}}"#
        )
    }

    @Test(arguments: [(1024, "low"), (4095, "low"), (4096, "medium"), (16383, "medium"), (16384, "high"), (64000, "high")])
    func thinkingBudgetBecomesReasoningEffort(budget: Int, effort: String) throws {
        let body = try chatBody(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled","budget_tokens":\#(budget)}}"#
        )
        #expect(
            body == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"user","content":"x"}],"reasoning_effort":"\#(effort)"}"#
        )
    }

    @Test func disabledThinkingAddsNothing() throws {
        let body = try chatBody(#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"disabled"}}"#)
        #expect(body == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"user","content":"x"}]}"#)
    }

    @Test func anthropicDefinedToolsAreListedNotRefusedAndLeftOutOfChat() throws {
        let request = try MessagesRequest.parse(
            ByteBuffer(
                string:
                    #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3},{"type":"custom","name":"f","input_schema":{"type":"object"}}]}"#
            )
        )
        #expect(request.serverTools == ["web_search_20250305"])
        let error = try #require(request.chatTranslationError)
        #expect(error.status == .badRequest)
        #expect(error.type == "invalid_request_error")
        #expect(error.param == "tools")
        #expect(error.message.contains("'web_search_20250305' is an Anthropic-defined tool"))
        #expect(
            String(buffer: request.chatBody())
                == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}"#
        )
    }

    @Test func documentBlocksAreListedWithTheirPath() throws {
        let request = try MessagesRequest.parse(
            ByteBuffer(
                string:
                    #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}},{"type":"text","text":"Sum up"}]}]}"#
            )
        )
        #expect(request.anthropicOnlyBlocks == ["messages.0.content.0"])
        #expect(request.chatTranslationError?.param == "messages.0.content.0")
        #expect(
            String(buffer: request.chatBody())
                == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"user","content":"Sum up"}]}"#
        )
    }

    @Test func countingNeedsNoMaxTokens() throws {
        let body = ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)
        let request = try MessagesRequest.parseForCounting(body)
        #expect(request.maxTokens == nil)
        #expect(String(buffer: request.chatBody()) == #"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)
        #expect(throws: GatewayError.invalidRequest("max_tokens: Field required", param: "max_tokens", code: "missing_required_parameter"))
        {
            try MessagesRequest.parse(body)
        }
    }

    @Test func untrustedTextIsEscapedInTheChatBody() throws {
        let body = try chatBody(#"{"model":"m\"x","max_tokens":5,"messages":[{"role":"user","content":"a\"},{\"role\":\"system\u0001"}]}"#)
        #expect(
            body == #"{"model":"m\"x","max_completion_tokens":5,"messages":[{"role":"user","content":"a\"},{\"role\":\"system\u0001"}]}"#
        )
    }

    @Test func outputConfigFormatBecomesAJSONSchemaResponseFormat() throws {
        let body = try chatBody(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"Hi"}],"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}}"#
        )
        #expect(
            body
                == #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"output","schema":{"type":"object","properties":{"a":{"type":"integer"}}},"strict":true}}}"#
        )
        #expect(throws: GatewayError.self) {
            try MessagesRequest.parse(
                ByteBuffer(
                    string:
                        #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"Hi"}],"output_config":{"format":{"type":"xml"}}}"#
                )
            )
        }
        let noSchema =
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"Hi"}],"output_config":{"format":{"type":"json_schema"}}}"#
        #expect(throws: GatewayError.self) { try MessagesRequest.parse(ByteBuffer(string: noSchema)) }
    }

    @Test func chatBodyPassesTheGatewaysChatValidation() throws {
        let request = try MessagesRequest.parse(
            ByteBuffer(
                string: #"""
                    {"model":"fast","max_tokens":64,"stream":true,"system":"S","messages":[
                      {"role":"user","content":[{"type":"text","text":"a"},{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]},
                      {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"q":1}}]},
                      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}],
                     "tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"}}
                    """#
            )
        )
        let chat = try ChatCompletionRequest.parse(request.chatBody())
        #expect(chat.model == "fast")
        #expect(chat.isStreaming)
        #expect(chat.includeUsage)
        #expect(chat.messageCount == 4)
    }
}
