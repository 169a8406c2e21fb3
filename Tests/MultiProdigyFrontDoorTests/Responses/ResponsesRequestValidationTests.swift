import MultiProdigyCore
import MultiProdigyJSON
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

@Suite struct ResponsesRequestValidationTests {
    /// A body and the `param` and `code` of the 400 it must get.
    struct Case: CustomTestStringConvertible, Sendable {
        var body: String
        var param: String?
        var code: String
        var testDescription: String { "\(param ?? "-") \(code)" }
    }

    static let cases: [Case] = [
        Case(body: "", param: nil, code: "invalid_json"),
        Case(body: #"{"model":"m","#, param: nil, code: "invalid_json"),
        Case(body: #"["m"]"#, param: nil, code: "invalid_type"),
        Case(body: #"{"input":"Hi"}"#, param: "model", code: "missing_required_parameter"),
        Case(body: #"{"model":"","input":"Hi"}"#, param: "model", code: "missing_required_parameter"),
        Case(body: #"{"model":7,"input":"Hi"}"#, param: "model", code: "invalid_type"),
        Case(body: #"{"model":"m"}"#, param: "input", code: "missing_required_parameter"),
        Case(body: #"{"model":"m","input":{"role":"user"}}"#, param: "input", code: "invalid_type"),
        Case(body: #"{"model":"m","input":["Hi"]}"#, param: "input[0]", code: "invalid_type"),
        Case(body: #"{"model":"m","input":[{"content":"Hi"}]}"#, param: "input[0].type", code: "missing_required_parameter"),
        Case(body: #"{"model":"m","input":[{"role":"tool","content":"Hi"}]}"#, param: "input[0].role", code: "invalid_value"),
        Case(body: #"{"model":"m","input":[{"role":"user"}]}"#, param: "input[0].content", code: "missing_required_parameter"),
        Case(body: #"{"model":"m","input":[{"role":"user","content":5}]}"#, param: "input[0].content", code: "invalid_type"),
        Case(
            body: #"{"model":"m","input":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"input_text"}]}]}"#,
            param: "input[1].content[0].text",
            code: "missing_required_parameter"
        ),
        Case(
            body: #"{"model":"m","input":["x","y",{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}]}"#,
            param: "input[0]",
            code: "invalid_type"
        ),
        Case(
            body:
                #"{"model":"m","input":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"user","content":[{"type":"input_image","detail":"auto"}]}]}"#,
            param: "input[2].content[0].image_url",
            code: "missing_required_parameter"
        ),
        Case(
            body: #"{"model":"m","input":[{"role":"user","content":[{"type":"video"}]}]}"#,
            param: "input[0].content[0].type",
            code: "invalid_value"
        ),
        Case(
            body: #"{"model":"m","input":[{"type":"function_call","call_id":"c","arguments":"{}"}]}"#,
            param: "input[0].name",
            code: "missing_required_parameter"
        ),
        Case(
            body: #"{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":{}}]}"#,
            param: "input[0].arguments",
            code: "invalid_type"
        ),
        Case(
            body: #"{"model":"m","input":[{"type":"function_call_output","output":"x"}]}"#,
            param: "input[0].call_id",
            code: "missing_required_parameter"
        ),
        Case(body: #"{"model":"m","input":"Hi","tools":{}}"#, param: "tools", code: "invalid_type"),
        Case(
            body: #"{"model":"m","input":"Hi","tools":[{"type":"function","name":"f"},{"type":"function"}]}"#,
            param: "tools[1].name",
            code: "missing_required_parameter"
        ),
        Case(body: #"{"model":"m","input":"Hi","tools":[{"name":"f"}]}"#, param: "tools[0].type", code: "missing_required_parameter"),
        Case(
            body: #"{"model":"m","input":"Hi","tools":[{"type":"function","name":"f","parameters":"{}"}]}"#,
            param: "tools[0].parameters",
            code: "invalid_type"
        ),
        Case(body: #"{"model":"m","input":"Hi","tool_choice":"always"}"#, param: "tool_choice", code: "invalid_value"),
        Case(
            body: #"{"model":"m","input":"Hi","tool_choice":{"type":"function"}}"#,
            param: "tool_choice.name",
            code: "missing_required_parameter"
        ),
        Case(body: #"{"model":"m","input":"Hi","tool_choice":true}"#, param: "tool_choice", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","max_output_tokens":8}"#, param: "max_output_tokens", code: "integer_below_min_value"),
        Case(body: #"{"model":"m","input":"Hi","max_output_tokens":20.5}"#, param: "max_output_tokens", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","temperature":"hot"}"#, param: "temperature", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","top_p":[1]}"#, param: "top_p", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","stream":"yes"}"#, param: "stream", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","store":1}"#, param: "store", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","parallel_tool_calls":"no"}"#, param: "parallel_tool_calls", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","previous_response_id":3}"#, param: "previous_response_id", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","instructions":["a"]}"#, param: "instructions", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","user":{}}"#, param: "user", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","metadata":{"k":1}}"#, param: "metadata.k", code: "invalid_type"),
        Case(
            body:
                #"{"model":"m","input":"Hi","metadata":{"1":"","2":"","3":"","4":"","5":"","6":"","7":"","8":"","9":"","10":"","11":"","12":"","13":"","14":"","15":"","16":"","17":""}}"#,
            param: "metadata",
            code: "object_above_max_properties"
        ),
        Case(body: #"{"model":"m","input":"Hi","text":{"format":{"type":"yaml"}}}"#, param: "text.format.type", code: "invalid_value"),
        Case(
            body: #"{"model":"m","input":"Hi","text":{"format":{"type":"json_schema","schema":{}}}}"#,
            param: "text.format.name",
            code: "missing_required_parameter"
        ),
        Case(
            body: #"{"model":"m","input":"Hi","text":{"format":{"type":"json_schema","name":"n"}}}"#,
            param: "text.format.schema",
            code: "missing_required_parameter"
        ),
        Case(body: #"{"model":"m","input":"Hi","text":"json"}"#, param: "text", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","reasoning":{"effort":1}}"#, param: "reasoning.effort", code: "invalid_type"),
        Case(body: #"{"model":"m","input":"Hi","background":true}"#, param: "background", code: "unsupported_value"),
        Case(body: #"{"model":"m","input":"Hi","conversation":"conv_1"}"#, param: "conversation", code: "unsupported_value"),
    ]

    @Test(arguments: cases)
    func invalidBodyIsRefusedNamingTheParameter(_ testCase: Case) throws {
        let error = try #require(ResponsesFixture.error(testCase.body))
        #expect(error.status == .badRequest)
        #expect(error.type == "invalid_request_error")
        #expect(error.param == testCase.param)
        #expect(error.code == testCase.code)
    }

    /// Input chat cannot hold is kept as sent and recorded, for a target that speaks the Responses
    /// API itself (the server refuses it with a 400 when the model has none).
    @Test(arguments: [
        (
            #"{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}]}"#,
            "input[0].content[0] (content of type 'input_image')"
        ),
        (
            #"{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}"#,
            "input[0].content[0] (content of type 'input_file')"
        ),
        (
            #"{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_image","image_url":"u"}]}]}"#,
            "input[0].output[0] (content of type 'input_image')"
        ),
        (#"{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}"#, "input[0] (an item of type 'item_reference')"),
        (
            #"{"model":"m","input":["Hi",{"type":"custom_tool_call","call_id":"c","name":"apply_patch","input":"*** Begin Patch"}]}"#,
            "input[1] (an item of type 'custom_tool_call')"
        ),
    ])
    func inputOnlyANativeTargetReadsIsKeptAndRecorded(body: String, path: String) throws {
        let request = try ResponsesFixture.request(body.replacingOccurrences(of: #"["Hi","#, with: #"[{"role":"user","content":"Hi"},"#))
        #expect(request.nativeOnlyInputs == [path])
        // Everything the client sent is kept as it sent it (a message or an output also gains an id).
        let given = try #require(JSONValue.parse(body)["input"]?.arrayValue?.last?.objectValue)
        let kept = try #require(request.inputItems.last)
        for member in given.members {
            #expect(kept[member.key] == member.value, "\(member.key)")
        }
    }

    @Test func inputChatCanHoldRecordsNothing() throws {
        let request = try ResponsesFixture.request(
            #"{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"https://x/i.png"}]}]}"#
        )
        #expect(request.nativeOnlyInputs.isEmpty)
    }

    @Test func errorMessagesAreWordedLikeOpenAIs() {
        #expect(
            ResponsesFixture.error(#"{"model":"m","input":"Hi","tools":[{"type":"function"}]}"#)?.message
                == "Missing required parameter: 'tools[0].name'."
        )
        #expect(
            ResponsesFixture.error(#"{"model":"m","input":"Hi","tool_choice":"always"}"#)?.message
                == "Invalid value: 'always'. Supported values are: 'none', 'auto', and 'required'."
        )
        #expect(
            ResponsesFixture.error(#"{"model":"m","input":[{"role":"user","content":5}]}"#)?.message
                == "Invalid type for 'input[0].content': expected a string or an array, but got a number instead."
        )
    }

    @Test func nullMeansNotGiven() throws {
        let request = try ResponsesFixture.request(
            #"{"model":"m","input":"Hi","instructions":null,"tools":null,"tool_choice":null,"temperature":null,"metadata":null,"text":null,"store":null}"#
        )
        #expect(request.store)
        #expect(request.instructions == nil)
    }
}
