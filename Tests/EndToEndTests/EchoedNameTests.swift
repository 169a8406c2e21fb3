import Foundation
import Testing

@testable import MultiProdigyCore

/// Names a client sends are echoed in error messages cut to a short prefix, so a megabyte-long
/// model name costs the gateway a small answer, still in OpenAI's envelope.
@Suite struct EchoedNameTests {
    // MARK: - The cut

    @Test func shortNamesAreKeptAsTheyAre() {
        #expect(EchoedName.shortened("") == "")
        #expect(EchoedName.shortened("gpt-4o") == "gpt-4o")
        let sixtyFour = String(repeating: "a", count: 64)
        #expect(EchoedName.shortened(sixtyFour) == sixtyFour)
    }

    @Test func longNamesKeepTheirFirstSixtyFourCharactersAndAnEllipsis() {
        #expect(EchoedName.shortened(String(repeating: "a", count: 65)) == String(repeating: "a", count: 64) + "…")
        let huge = EchoedName.shortened(String(repeating: "x", count: 1 << 20))
        #expect(huge == String(repeating: "x", count: 64) + "…")
        #expect(huge.utf8.count == 67)
        #expect(EchoedName.shortened("openai/" + String(repeating: "m", count: 100)) == "openai/" + String(repeating: "m", count: 57) + "…")
    }

    @Test func theCutNeverSplitsAUTF8Character() {
        // Two bytes each, then four bytes each: the cut falls between characters, not inside one.
        #expect(EchoedName.shortened(String(repeating: "é", count: 65)) == String(repeating: "é", count: 64) + "…")
        let emoji = EchoedName.shortened(String(repeating: "😀", count: 70))
        #expect(emoji == String(repeating: "😀", count: 64) + "…")
        #expect(emoji.utf8.count == 64 * 4 + 3)
        // It counts Unicode scalars: a combining accent is one, and a long run of them is still cut.
        #expect(EchoedName.shortened(String(repeating: "a", count: 63) + "e\u{301}") == String(repeating: "a", count: 63) + "e…")
        let accents = EchoedName.shortened("e" + String(repeating: "\u{301}", count: 100_000))
        #expect(accents.unicodeScalars.count == 65)
    }

    @Test func substringsAreCutLikeStrings() {
        let text = "model=" + String(repeating: "z", count: 80)
        let value = text.dropFirst(6)
        #expect(EchoedName.shortened(value) == String(repeating: "z", count: 64) + "…")
    }

    // MARK: - Through the gateway

    private static let yaml = """
        server: {max_request_bytes: 4MiB}
        auth: {master_key: test-master}
        providers:
        \(fakeProvider("local", index: 0))
        models:
          small: {provider: local}
        routes:
          auto: {targets: [small]}
        """
    private static let master = [("authorization", "Bearer test-master")]

    /// An error answer that is small, in OpenAI's envelope, and shows the start of `echoed`.
    private static func expectShortEnvelope(
        _ reply: GatewayClient.Reply,
        status: Int,
        code: String,
        echoing echoed: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(reply.status == status, sourceLocation: sourceLocation)
        #expect(reply.body.utf8.count < 2048, "\(reply.body.utf8.count) bytes", sourceLocation: sourceLocation)
        #expect(reply.error["code"] as? String == code, sourceLocation: sourceLocation)
        #expect(reply.error["type"] as? String == "invalid_request_error", sourceLocation: sourceLocation)
        let message = reply.error["message"] as? String ?? ""
        #expect(message.contains(EchoedName.shortened(echoed)), "\(message)", sourceLocation: sourceLocation)
    }

    @Test func aMegabyteModelNameGetsASmall404() async throws {
        let upstream = FakeUpstream()
        try await withGateway(upstreams: [upstream], yaml: Self.yaml) { gateway in
            let name = String(repeating: "x", count: 1 << 20)
            let reply = try await gateway.send(
                body: #"{"model":"\#(name)","messages":[{"role":"user","content":"hi"}]}"#,
                headers: Self.master
            )
            Self.expectShortEnvelope(reply, status: 404, code: "model_not_found", echoing: name)
            #expect(reply.error["param"] as? String == "model")
            let message = try #require(reply.error["message"] as? String)
            #expect(message.hasPrefix("The model '" + String(repeating: "x", count: 64) + "…' does not exist on this gateway."))
            #expect(message.contains("routes: auto"))

            // The same name looked up as a model id.
            let shorter = String(repeating: "y", count: 4000)
            let lookup = try await gateway.send(.GET, "/v1/models/" + shorter, headers: Self.master)
            Self.expectShortEnvelope(lookup, status: 404, code: "model_not_found", echoing: shorter)
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func longPathsHeadersAndFieldsAreCutToo() async throws {
        try await withGateway(upstreams: [FakeUpstream()], yaml: Self.yaml) { gateway in
            let segment = String(repeating: "p", count: 4000)
            let path = "/v1/" + segment
            let unknown = try await gateway.send(.GET, path, headers: Self.master)
            Self.expectShortEnvelope(unknown, status: 404, code: "unknown_url", echoing: path)

            let policy = String(repeating: "q", count: 4000)
            let badPolicy = try await gateway.send(
                body: #"{"model":"auto","messages":[{"role":"user","content":"hi"}]}"#,
                headers: Self.master + [("x-multiprodigy-policy", policy)]
            )
            Self.expectShortEnvelope(badPolicy, status: 400, code: "invalid_value", echoing: policy)

            let field = String(repeating: "f", count: 100_000)
            let badField = try await gateway.send(
                body: #"{"model":"auto","messages":[{"role":"user","content":"hi"}],"multiprodigy":{"\#(field)":1}}"#,
                headers: Self.master
            )
            Self.expectShortEnvelope(badField, status: 400, code: "unknown_parameter", echoing: field)
            #expect(badField.error["param"] as? String == "multiprodigy." + String(repeating: "f", count: 64) + "…")

            let keyName = String(repeating: "!", count: 100_000)
            let badKey = try await gateway.send(.POST, "/admin/keys", body: #"{"name":"\#(keyName)"}"#, headers: Self.master)
            Self.expectShortEnvelope(badKey, status: 400, code: "invalid_key_settings", echoing: keyName)

            let missingKey = String(repeating: "k", count: 4000)
            let revoke = try await gateway.send(.DELETE, "/admin/keys/" + missingKey, headers: Self.master)
            Self.expectShortEnvelope(revoke, status: 404, code: "key_not_found", echoing: missingKey)
        }
    }
}
