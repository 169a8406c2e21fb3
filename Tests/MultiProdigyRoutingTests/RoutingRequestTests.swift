import NIOCore
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyRouting
@testable import MultiProdigyCore

@Suite struct RoutingRequestTests {
    private func describe(
        _ body: String,
        detectsPII: Bool = true,
        overrides: RoutingOverrides = RoutingOverrides()
    ) throws -> RoutingRequest {
        RoutingRequest(chat: try ChatCompletionRequest.parse(ByteBuffer(string: body)), overrides: overrides, detectsPII: detectsPII)
    }

    struct CapabilityCase: CustomTestStringConvertible, Sendable {
        let name: String
        let extra: String
        var content = #""hi""#
        let expected: Set<ModelCapability>
        var testDescription: String { name }
    }

    static let capabilityCases: [CapabilityCase] = [
        CapabilityCase(name: "plain text needs nothing", extra: "", expected: []),
        CapabilityCase(
            name: "tools",
            extra: #","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]"#,
            expected: [.tools]
        ),
        CapabilityCase(name: "an empty tools list needs nothing", extra: #","tools":[]"#, expected: []),
        CapabilityCase(
            name: "json_schema",
            extra: #","response_format":{"type":"json_schema","json_schema":{"name":"x"}}"#,
            expected: [.json]
        ),
        CapabilityCase(name: "json_object", extra: #","response_format":{"type":"json_object"}"#, expected: [.json]),
        CapabilityCase(name: "text response_format needs nothing", extra: #","response_format":{"type":"text"}"#, expected: []),
        CapabilityCase(
            name: "an image part",
            extra: "",
            content:
                #"[{"type":"text","text":"what is it?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]"#,
            expected: [.vision]
        ),
    ]

    @Test(arguments: capabilityCases)
    func capabilitiesComeFromTheBody(_ testCase: CapabilityCase) throws {
        let request = try describe(#"{"model":"m","messages":[{"role":"user","content":\#(testCase.content)}]\#(testCase.extra)}"#)
        #expect(request.requiredCapabilities == testCase.expected)
    }

    @Test func maxCompletionTokensWinsOverMaxTokens() throws {
        #expect(try describe(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":50}"#).maxOutputTokens == 50)
        #expect(
            try describe(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":50,"max_completion_tokens":70}"#)
                .maxOutputTokens == 70
        )
        #expect(try describe(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#).maxOutputTokens == nil)
    }

    @Test func personalDataAnywhereTheModelReadsMakesTheRequestPrivate() throws {
        let inText = try describe(#"{"model":"m","messages":[{"role":"user","content":"mail ann@example.com"}]}"#)
        #expect(inText.privateReason == "pii:email")
        let inPart = try describe(#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"SSN 123-45-6789"}]}]}"#)
        #expect(inPart.privateReason == "pii:national_id")
        let inToolArguments = try describe(
            #"{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"pay","arguments":"{\"card\":\"4111111111111111\"}"}}]},{"role":"tool","tool_call_id":"c","content":"ok"}]}"#
        )
        #expect(inToolArguments.privateReason == "pii:card")
    }

    struct FieldCase: CustomTestStringConvertible, Sendable {
        let name: String
        let body: String
        var testDescription: String { name }
    }

    static let fieldCases: [FieldCase] = [
        FieldCase(name: "message name", body: #""messages":[{"role":"user","name":"ann@example.com","content":"hi"}]"#),
        FieldCase(
            name: "refusal field",
            body: #""messages":[{"role":"assistant","refusal":"not for ann@example.com"},{"role":"user","content":"hi"}]"#
        ),
        FieldCase(
            name: "refusal part",
            body:
                #""messages":[{"role":"assistant","content":[{"type":"refusal","refusal":"ann@example.com"}]},{"role":"user","content":"hi"}]"#
        ),
        FieldCase(
            name: "legacy function_call",
            body:
                #""messages":[{"role":"assistant","function_call":{"name":"f","arguments":"{\"to\":\"ann@example.com\"}"}},{"role":"user","content":"hi"}]"#
        ),
        FieldCase(
            name: "tool description",
            body:
                #""messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","description":"Mail ann@example.com","parameters":{"type":"object"}}}]"#
        ),
        FieldCase(
            name: "tool parameter enum",
            body:
                #""messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"to":{"enum":["ann@example.com"]}}}}}]"#
        ),
        FieldCase(
            name: "predicted output",
            body: #""messages":[{"role":"user","content":"hi"}],"prediction":{"type":"content","content":"ann@example.com"}"#
        ),
        FieldCase(
            name: "remote image URL query",
            body:
                #""messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://img.example/x.png?owner=ann@example.com"}}]}]"#
        ),
        FieldCase(
            name: "slash-escaped secret",
            body: #""messages":[{"role":"user","content":"aws_secret_access_key=wJalrXUtnFEMI\/K7MDENG\/bPxRfiCYEXAMPLEKEY"}]"#
        ),
        FieldCase(name: "unicode-escaped email", body: #""messages":[{"role":"user","content":"write to ann\u0040example.com"}]"#),
    ]

    @Test(arguments: fieldCases)
    func everyFieldTheModelReadsIsScanned(_ testCase: FieldCase) throws {
        let request = try describe(#"{"model":"m",\#(testCase.body)}"#)
        #expect(request.privateReason?.hasPrefix("pii:") == true)
    }

    @Test func ordinaryTextAndImageDataStayPublic() throws {
        let request = try describe(
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Order 12345678 costs $1,234.56 on 2024-05-17"},{"type":"image_url","image_url":{"url":"data:image/png;base64,NDExMTExMTExMTExMTExMQ4111111111111111=="}}]}]}"#
        )
        #expect(request.privateReason == nil)
    }

    @Test func detectionCanBeTurnedOffAndTheClientsWishIsReportedFirst() throws {
        let body = #"{"model":"m","messages":[{"role":"user","content":"mail ann@example.com"}]}"#
        #expect(try describe(body, detectsPII: false).privateReason == nil)
        #expect(try describe(body, overrides: RoutingOverrides(privateReason: "header")).privateReason == "header")
    }

    @Test func embeddingsInputsAreScannedAndCounted() throws {
        let embeddings = try EmbeddingsRequest.parse(ByteBuffer(string: #"{"model":"e","input":["hello world","call +1 415 555 0100"]}"#))
        let request = RoutingRequest(embeddings: embeddings, overrides: RoutingOverrides(), detectsPII: true)
        #expect(request.privateReason == "pii:phone")
        #expect(request.promptTokens > 3)
        #expect(RoutingRequest(embeddings: embeddings, overrides: RoutingOverrides(), detectsPII: false).privateReason == nil)
    }
}
