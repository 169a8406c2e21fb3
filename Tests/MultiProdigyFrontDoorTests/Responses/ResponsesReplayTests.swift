import MultiProdigyJSON
import Testing

@testable import MultiProdigyFrontDoor

/// A stored conversation replayed to a native Responses target carries no item ids the target
/// never issued, and no reasoning it cannot read.
@Suite struct ResponsesReplayTests {
    @Test func storedItemsLoseTheGatewaysIdsAndUnreadableReasoning() throws {
        let stored = try JSONValue.parse(
            #"""
            [{"id":"msg_g1","type":"message","status":"completed","role":"user","content":[{"type":"input_text","text":"Weather?"}]},
             {"id":"rs_g_0","type":"reasoning","summary":[]},
             {"id":"rs_u","type":"reasoning","summary":[],"encrypted_content":"gAAA"},
             {"id":"msg_g2","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Let me ","annotations":[]},{"type":"output_text","text":"check.","annotations":[]}]},
             {"id":"fc_g","type":"function_call","status":"completed","call_id":"call_1","name":"weather","arguments":"{}"},
             {"id":"fco_g","type":"function_call_output","status":"completed","call_id":"call_1","output":"sunny"},
             {"id":"ws_u","type":"web_search_call","status":"completed"}]
            """#
        )
        let replayed = ResponsesReplay.forNativeTarget(try #require(stored.arrayValue))
        let expected = try JSONValue.parse(
            #"""
            [{"type":"message","role":"user","content":[{"type":"input_text","text":"Weather?"}]},
             {"id":"rs_u","type":"reasoning","summary":[],"encrypted_content":"gAAA"},
             {"role":"assistant","content":"Let me check."},
             {"type":"function_call","call_id":"call_1","name":"weather","arguments":"{}"},
             {"type":"function_call_output","call_id":"call_1","output":"sunny"},
             {"id":"ws_u","type":"web_search_call","status":"completed"}]
            """#
        )
        #expect(JSONValue.array(replayed) == expected)
    }

    @Test func aStoredConversationNamesWhatChatCannotHold() throws {
        let history = try JSONValue.parse(
            #"""
            [{"type":"message","role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"https://x/i.png"}]},
             {"type":"function_call_output","call_id":"c","output":"ok"},
             {"type":"custom_tool_call","call_id":"d","name":"apply_patch","input":"x"},
             {"type":"message","role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]
            """#
        )
        #expect(
            ResponsesInput.nativeOnlyItems(in: try #require(history.arrayValue)) == [
                "The stored conversation's item 2 (an item of type 'custom_tool_call')",
                "The stored conversation's item 3 (content of type 'input_file')",
            ]
        )
    }
}
