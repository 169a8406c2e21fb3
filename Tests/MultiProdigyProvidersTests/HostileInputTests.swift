import HTTPTypes
import NIOCore
import Testing

@testable import MultiProdigyJSON
@testable import MultiProdigyProviders
@testable import MultiProdigyCore

/// Inputs built to exhaust the gateway: each must be answered, cheaply, without a crash.
@Suite struct HostileInputTests {
    @Test func schemaReferencesThatFanOutAreExpandedOnlyUpToABudget() throws {
        // D0 has ten properties that each refer to D1, which has ten that refer to D2, … : 10^8 nodes if expanded fully.
        var definitions = JSONObject()
        for level in 0..<8 {
            var properties = JSONObject()
            for index in 0..<10 { properties["p\(index)"] = ["$ref": .string("#/$defs/D\(level + 1)")] }
            definitions["D\(level)"] = ["type": "object", "properties": .object(properties)]
        }
        definitions["D8"] = ["type": "string"]
        let schema: JSONValue = ["$ref": "#/$defs/D0", "$defs": .object(definitions)]
        let converted = GeminiSchema.convert(schema)
        #expect(converted.buffer.readableBytes < 2_000_000, "bounded by the expansion budget")
        #expect(converted["type"] == "OBJECT")
    }

    @Test func objectsWithVeryManyKeysParseInLinearTime() throws {
        var text = #"{"model":"x","input":"y""#
        for index in 0..<200_000 { text += #","k\#(index)":0"# }
        text += "}"
        let value = try JSONValue.parse(text)
        #expect(value.objectValue?.members.count == 200_002)
    }

    @Test(arguments: ["1e300", "1e999", "-5", "NaN"])
    func absurdLoadingEstimatesAreIgnored(_ estimate: String) {
        let body = ByteBuffer(string: #"{"error":"Model is currently loading","estimated_time":\#(estimate)}"#)
        let error = HuggingFaceErrorMapping.map(status: .serviceUnavailable, body: body, provider: "hf")
        #expect(error.kind == .server)
        #expect(error.upstreamError?.message.contains("left") == false)
    }

    @Test func oneLongTokenArrayIsOneInput() throws {
        let tokens = (0..<3000).map(String.init).joined(separator: ",")
        let request = try EmbeddingsRequest.parse(ByteBuffer(string: #"{"model":"m","input":[\#(tokens)]}"#))
        #expect(request.inputs.count == 1)
    }

    @Test func choiceCountIsBounded() {
        #expect(throws: GatewayError.self) {
            try ChatCompletionRequest.parse(
                ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":"x"}],"n":1000000000000}"#)
            )
        }
        #expect(throws: Never.self) {
            try ChatCompletionRequest.parse(ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":"x"}],"n":128}"#))
        }
    }

    @Test func modelNamesCannotEscapeTheirPathSegment() throws {
        #expect(URLPathEscaping.segment("gemini-2.5-flash") == "gemini-2.5-flash")
        #expect(URLPathEscaping.segment("../../v1/files?x=1#f") == "..%2F..%2Fv1%2Ffiles%3Fx%3D1%23f")
        #expect(try URLPathEscaping.path("BAAI/bge-small-en-v1.5") == "BAAI/bge-small-en-v1.5")
        #expect(throws: ProviderError.self) { try URLPathEscaping.path("org/../secret") }
        #expect(throws: ProviderError.self) { try URLPathEscaping.path("/abs") }
    }
}
