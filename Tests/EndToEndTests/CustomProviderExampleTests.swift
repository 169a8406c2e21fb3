import Foundation
import Testing

/// The shipped example executable: a provider type registered in Swift serves chat and streams.
@Suite(.serialized) struct CustomProviderExampleTests {
    @Test func theRegisteredTypeAnswersChatAndStreamsThroughTheGateway() async throws {
        let inhouse = FakeUpstream(
            .raw(
                status: .ok,
                contentType: "application/json",
                body: #"{"text":"Hello from in-house","prompt_tokens":5,"completion_tokens":4}"#
            )
        )
        try await withService({ onPort in try await inhouse.run(onPort: onPort) }) { port in
            let example = GatewayProcess(
                executable: "custom-provider-example",
                arguments: [Self.examplePath("gateway.yaml"), "127.0.0.1:0"]
            )
            example.process.environment = ["INHOUSE_URL": "http://127.0.0.1:\(port)"]
            try await example.startServing()
            let client = GatewayClient(port: example.port)

            let reply = try await client.send(
                body:
                    #"{"model":"auto","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":20}"#
            )
            #expect(reply.status == 200, "\(example.log)")
            let message = (reply.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
            #expect(message?["content"] as? String == "Hello from in-house")
            #expect(reply.json["model"] as? String == "inhouse-small")
            #expect((reply.json["usage"] as? [String: Any])?["total_tokens"] as? Int == 9)
            let received = try #require(inhouse.requests.first)
            #expect(received.path == "/generate")
            #expect(received.bodyString == #"{"prompt":"system: Be brief.\nuser: Hi","max_tokens":20}"#)

            let streamed = try await client.send(
                body: #"{"model":"auto","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true}}"#
            )
            #expect(streamed.status == 200)
            #expect(streamed.events.last == "[DONE]")
            #expect(streamed.body.contains("Hello from in-house"))
            #expect(streamed.body.contains(#""total_tokens":9"#))
        }
    }

    private static func examplePath(_ file: String) -> String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/CustomProvider/\(file)").path
    }
}
