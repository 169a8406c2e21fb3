import MultiProdigyCore
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct MessagesRequestValidationTests {
    /// A body with one user message whose content is `content`, and `extra` top-level members.
    private static func body(content: String = #""Hi""#, extra: String = "") -> String {
        #"{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"# + content + "}]" + extra + "}"
    }

    /// An invalid body, the `param` it is refused with, and the refusal's message.
    struct Case: Sendable, CustomTestStringConvertible {
        var body: String
        var param: String?
        var message: String
        var testDescription: String { param ?? message }
    }

    static let cases: [Case] = [
        Case(body: "", param: nil, message: "The request body is empty. Send a JSON object with 'model', 'max_tokens' and 'messages'."),
        Case(body: "{", param: nil, message: "We could not parse the JSON body of your request"),
        Case(body: "[]", param: nil, message: "The request body must be a JSON object, but it is an array."),
        Case(body: #"{"max_tokens":1,"messages":[]}"#, param: "model", message: "model: Field required"),
        Case(
            body: #"{"model":7,"max_tokens":1,"messages":[]}"#,
            param: "model",
            message: "model: Input should be a string, but got a number"
        ),
        Case(
            body: #"{"model":"","max_tokens":1,"messages":[]}"#,
            param: "model",
            message: "model: String should have at least 1 character"
        ),
        Case(body: #"{"model":"m","messages":[]}"#, param: "max_tokens", message: "max_tokens: Field required"),
        Case(
            body: #"{"model":"m","max_tokens":1.5,"messages":[]}"#,
            param: "max_tokens",
            message: "max_tokens: Input should be an integer, but got the number 1.5"
        ),
        Case(
            body: #"{"model":"m","max_tokens":0,"messages":[]}"#,
            param: "max_tokens",
            message: "max_tokens: Input should be greater than or equal to 1, but got 0"
        ),
        Case(body: #"{"model":"m","max_tokens":1}"#, param: "messages", message: "messages: Field required"),
        Case(
            body: #"{"model":"m","max_tokens":1,"messages":{}}"#,
            param: "messages",
            message: "messages: Input should be an array, but got an object"
        ),
        Case(
            body: #"{"model":"m","max_tokens":1,"messages":[]}"#,
            param: "messages",
            message: "messages: at least one message is required"
        ),
        Case(
            body: #"{"model":"m","max_tokens":1,"messages":["hi"]}"#,
            param: "messages.0",
            message: "messages.0: Input should be an object, but got a string"
        ),
        Case(
            body: #"{"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]}"#,
            param: "messages.0.role",
            message: "messages.0.role: Input should be 'user' or 'assistant', but got 'system'"
        ),
        Case(
            body: #"{"model":"m","max_tokens":1,"messages":[{"role":"user"}]}"#,
            param: "messages.0.content",
            message: "messages.0.content: Field required"
        ),
        Case(
            body: body(content: "5"),
            param: "messages.0.content",
            message: "messages.0.content: Input should be a string or an array of content blocks, but got a number"
        ),
        Case(
            body: body(content: #"[{"type":"text","text":"a"},{"type":"foo"}]"#),
            param: "messages.0.content.1.type",
            message: "messages.0.content.1: Input tag 'foo' found using 'type' does not match any of the expected tags: 'text', 'image', "
                + "'tool_use', 'tool_result', 'thinking', 'redacted_thinking', 'document', 'search_result', 'server_tool_use', "
                + "'web_search_tool_result', 'web_fetch_tool_result', 'code_execution_tool_result', 'bash_code_execution_tool_result', "
                + "'text_editor_code_execution_tool_result', 'mcp_tool_use', 'mcp_tool_result', 'container_upload'"
        ),
        Case(
            body: body(content: #"[{"text":"a"}]"#),
            param: "messages.0.content.0.type",
            message: "messages.0.content.0: Unable to extract tag using discriminator 'type'"
        ),
        Case(
            body: body(content: #"[{"type":"text"}]"#),
            param: "messages.0.content.0.text",
            message: "messages.0.content.0.text: Field required"
        ),
        Case(
            body: body(content: #"[{"type":"image","source":{"type":"base64","media_type":"image/png"}}]"#),
            param: "messages.0.content.0.source.data",
            message: "messages.0.content.0.source.data: Field required"
        ),
        Case(
            body: body(content: #"[{"type":"image","source":{"type":"base64","media_type":"image/bmp","data":"AA=="}}]"#),
            param: "messages.0.content.0.source.media_type",
            message:
                "messages.0.content.0.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp', but got 'image/bmp'"
        ),
        Case(
            body: body(content: #"[{"type":"image","source":{"type":"url","url":"ftp://x/y.png"}}]"#),
            param: "messages.0.content.0.source.url",
            message: "messages.0.content.0.source.url: expected an http or https URL"
        ),
        Case(
            body: body(content: #"[{"type":"image","source":{"type":"path","path":"/etc"}}]"#),
            param: "messages.0.content.0.source.type",
            message:
                "messages.0.content.0.source: Input tag 'path' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'"
        ),
        Case(
            body: body(content: #"[{"type":"tool_use","id":"t","name":"f","input":{}}]"#),
            param: "messages.0.content.0.type",
            message: "messages.0.content.0: 'tool_use' blocks are only allowed in assistant messages, but this is a user message"
        ),
        Case(
            body:
                #"{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":"{}"}]}]}"#,
            param: "messages.0.content.0.input",
            message: "messages.0.content.0.input: Input should be an object, but got a string"
        ),
        Case(
            body: #"{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"t"}]}]}"#,
            param: "messages.0.content.0.type",
            message: "messages.0.content.0: 'tool_result' blocks are only allowed in user messages, but this is an assistant message"
        ),
        Case(
            body: body(content: #"[{"type":"tool_result","content":"x"}]"#),
            param: "messages.0.content.0.tool_use_id",
            message: "messages.0.content.0.tool_use_id: Field required"
        ),
        Case(
            body: body(content: #"[{"type":"tool_result","tool_use_id":"t","content":[{"type":"tool_use"}]}]"#),
            param: "messages.0.content.0.content.0.type",
            message: "messages.0.content.0.content.0: Input tag 'tool_use' found using 'type' does not match any of the expected tags: "
                + "'text', 'image', 'document', 'search_result'"
        ),
        Case(
            body: body(content: #"[{"type":"tool_result","tool_use_id":"t","is_error":"yes"}]"#),
            param: "messages.0.content.0.is_error",
            message: "messages.0.content.0.is_error: Input should be a boolean, but got a string"
        ),
        Case(
            body: body(extra: #","system":[{"type":"image"}]"#),
            param: "system.0.type",
            message: "system.0: Input tag 'image' found using 'type' does not match any of the expected tags: 'text'"
        ),
        Case(
            body: body(extra: #","system":3"#),
            param: "system",
            message: "system: Input should be a string or an array of text blocks, but got a number"
        ),
        Case(
            body: body(extra: #","tools":[{"name":"f"}]"#),
            param: "tools.0.input_schema",
            message: "tools.0.input_schema: Field required"
        ),
        Case(
            body: body(extra: #","tools":[{"input_schema":{"type":"object"}}]"#),
            param: "tools.0.name",
            message: "tools.0.name: Field required"
        ),
        Case(
            body: body(extra: #","tool_choice":{"type":"required"}"#),
            param: "tool_choice.type",
            message:
                "tool_choice: Input tag 'required' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
        ),
        Case(body: body(extra: #","tool_choice":{"type":"tool"}"#), param: "tool_choice.name", message: "tool_choice.name: Field required"),
        Case(
            body: body(extra: #","stop_sequences":["a",1]"#),
            param: "stop_sequences.1",
            message: "stop_sequences.1: Input should be a string, but got a number"
        ),
        Case(
            body: body(extra: #","temperature":1.5"#),
            param: "temperature",
            message: "temperature: Input should be between 0 and 1, but got 1.5"
        ),
        Case(body: body(extra: #","top_k":-1"#), param: "top_k", message: "top_k: Input should be greater than or equal to 0, but got -1"),
        Case(
            body: body(extra: #","metadata":{"user_id":5}"#),
            param: "metadata.user_id",
            message: "metadata.user_id: Input should be a string, but got a number"
        ),
        Case(body: body(extra: #","stream":"yes""#), param: "stream", message: "stream: Input should be a boolean, but got a string"),
        Case(
            body: body(extra: #","thinking":{"type":"enabled"}"#),
            param: "thinking.budget_tokens",
            message: "thinking.budget_tokens: Field required"
        ),
    ]

    @Test(arguments: cases)
    func invalidBodyIsRefusedNamingItsPath(_ invalid: Case) {
        let error = #expect(throws: GatewayError.self) {
            try MessagesRequest.parse(ByteBuffer(string: invalid.body))
        }
        #expect(error?.status == .badRequest)
        #expect(error?.type == "invalid_request_error")
        #expect(error?.param == invalid.param)
        if invalid.body == "{" {
            // The JSON syntax error's message goes on with the scanner's reason and offset.
            #expect(error?.message.hasPrefix(invalid.message) == true)
        } else {
            #expect(error?.message == invalid.message)
        }
    }

    @Test func nullOptionalFieldsCountAsAbsent() throws {
        let request = try MessagesRequest.parse(
            ByteBuffer(
                string: Self.body(
                    extra: #","system":null,"tools":null,"tool_choice":null,"temperature":null,"stream":null,"thinking":null"#
                )
            )
        )
        #expect(
            String(buffer: request.chatBody()) == #"{"model":"m","max_completion_tokens":16,"messages":[{"role":"user","content":"Hi"}]}"#
        )
    }
}
