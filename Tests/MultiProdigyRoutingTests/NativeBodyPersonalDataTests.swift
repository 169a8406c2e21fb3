import NIOCore
import Testing

@testable import MultiProdigyRouting

/// Personal data is looked for in every string a native target would read, and not in ids,
/// opaque tokens or image data.
@Suite struct NativeBodyPersonalDataTests {
    static func finding(_ body: String) -> String? {
        RoutingRequest.personalData(inNativeBody: ByteBuffer(string: body))?.rawValue
    }

    @Test(arguments: [
        // A document only Anthropic reads.
        #"{"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"mail jane.doe@example.com"}}]}]}"#,
        // A thinking block in the history.
        #"{"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"ask jane.doe@example.com","signature":"s"}]}]}"#,
        // A tool result nested in a Responses item.
        #"{"input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"jane.doe@example.com"}]}]}"#,
        // An escaped string.
        #"{"input":"write to jane.doe\u0040example.com"}"#,
        // Text that starts like a data URL but is none.
        #"{"messages":[{"role":"user","content":"data: Jane, jane.doe@example.com"}]}"#,
        // A tool call's input, whose keys are the client's own (`id`, `detail`).
        #"{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"crm","input":{"id":"jane.doe@example.com","detail":"x"}}]}]}"#,
    ])
    func personalDataAnywhereAnUpstreamReadsIsFound(body: String) {
        #expect(Self.finding(body) == "email")
    }

    @Test func aSecretNamedByItsKeyInAToolInputIsFound() {
        let body =
            #"{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"deploy","input":{"api_key":"Xy7abc123defGh89"}}]}]}"#
        #expect(Self.finding(body) != nil)
        // The same value with no key naming it is no finding: the key is what the detector reads.
        #expect(Self.finding(#"{"messages":[{"role":"user","content":"Xy7abc123defGh89"}]}"#) == nil)
    }

    @Test(arguments: [
        #"{"model":"jane.doe@example.com","input":"hello"}"#,
        #"{"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"fine","signature":"jane.doe@example.com"}]}]}"#,
        #"{"input":[{"type":"reasoning","id":"rs_1","encrypted_content":"jane.doe@example.com"}]}"#,
        #"{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"jane.doe@example.com"}}]}]}"#,
        #"{"input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,jane.doe@example.com"}]}]}"#,
        #"{"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"jane.doe@example.com"}}]}]}"#,
        #"not json"#,
    ])
    func idsTokensAndImageDataAreNotProse(body: String) {
        #expect(Self.finding(body) == nil)
    }

    @Test func theProseOfEveryBlockIsCountedButNotImageData() {
        let words = String(repeating: "The quarterly report shows steady growth. ", count: 100)
        let document =
            #"{"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"\#(words)"}}]}]}"#
        let image =
            #"{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"\#(words)"}}]}]}"#
        let documentTokens = RoutingRequest.prose(ofNativeBody: ByteBuffer(string: document), detectsPII: false).tokens
        #expect(documentTokens > 500)
        #expect(RoutingRequest.prose(ofNativeBody: ByteBuffer(string: image), detectsPII: false).tokens < 20)
        // Nor is a base64 PDF's: its text cannot be read from its bytes.
        let pdf = image.replacingOccurrences(of: "image/png", with: "application/pdf")
        #expect(RoutingRequest.prose(ofNativeBody: ByteBuffer(string: pdf), detectsPII: false).tokens < 20)
    }
}
