import Foundation
import NIOCore
import Testing

/// A stream whose upstream ends its chunked body a moment after its last event (`[DONE]`,
/// `message_stop`) leaves its connection to finish and be reused, rather than closing it the moment
/// the answer is complete; one that does not end within the grace is closed.
@Suite struct StreamConnectionReuseTests {
    private static let chatStream = FakeUpstream.stream(["Hello", " there"]).map { "data: \($0)\n\n" }.joined() + "data: [DONE]\n\n"
    private static let messagesStream: String = {
        typealias A = AnthropicEndToEndTests
        return A.messageStart + A.textStart + A.textDelta("Hi") + A.textStop + A.messageDelta + A.messageStop
    }()

    private static func yaml(port: Int) -> String {
        """
        providers:
          local: {type: openai, base_url: "http://127.0.0.1:\(port)/v1", locality: local}
          claude: {type: anthropic, base_url: "http://127.0.0.1:\(port)", api_key: k, locality: local}
        models:
          small: {provider: local}
          sonnet: {provider: claude, model: claude-sonnet-4-5}
        """
    }

    /// Two requests, one after the other, through a gateway in front of `upstream`.
    private static func twice(
        _ upstream: LateEndUpstream,
        _ request: @escaping @Sendable (GatewayClient) async throws -> GatewayClient.Reply
    ) async throws -> [GatewayClient.Reply] {
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            try await withGateway(upstreams: [], yaml: Self.yaml(port: port)) { gateway in
                var replies: [GatewayClient.Reply] = []
                for round in 0..<2 {
                    replies.append(try await request(gateway))
                    // Time for the late end to arrive and the connection to go back to the pool.
                    if round == 0 { try await Task.sleep(for: .milliseconds(400)) }
                }
                return replies
            }
        }
    }

    /// A streamed answer through the gateway: its upstream events, the request, and the event the
    /// client's body must end with.
    enum StreamKind: String, CaseIterable, Sendable {
        /// A chat stream, ended by `[DONE]`.
        case chat
        /// A native Messages stream, ended by `message_stop`.
        case messages

        var events: String { self == .chat ? StreamConnectionReuseTests.chatStream : StreamConnectionReuseTests.messagesStream }
        var lastEvent: String { self == .chat ? "data: [DONE]" : "message_stop" }

        func request(_ gateway: GatewayClient) async throws -> GatewayClient.Reply {
            switch self {
            case .chat:
                try await gateway.chat("small", stream: true)
            case .messages:
                try await gateway.send(
                    .POST,
                    "/v1/messages",
                    body: NativeMessagesTests.richMessage(stream: true),
                    headers: [("anthropic-version", "2023-06-01")]
                )
            }
        }
    }

    @Test(arguments: StreamKind.allCases)
    func aStreamsConnectionIsReusedWhenItsEndComesAfterItsLastEvent(_ kind: StreamKind) async throws {
        let upstream = LateEndUpstream(events: kind.events)
        let replies = try await Self.twice(upstream) { try await kind.request($0) }
        for reply in replies {
            #expect(reply.status == 200)
            #expect(reply.body.contains(kind.lastEvent))
        }
        #expect(upstream.requests == 2)
        #expect(upstream.accepted == 1, "the first stream's connection was reused")
    }

    /// The grace, its limit and their edge cases are table-tested in ``UpstreamBodyReleaseTests``;
    /// this checks them through the real server.
    @Test func aConnectionWhoseEndNeverComesIsClosedAfterTheGrace() async throws {
        // The end would come 30 s late, long after the half-second grace.
        let upstream = LateEndUpstream(events: Self.chatStream, endDelay: .seconds(30))
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            try await withGateway(upstreams: [], yaml: Self.yaml(port: port)) { gateway in
                let reply = try await gateway.chat("small", stream: true)
                #expect(reply.status == 200 && reply.body.contains("data: [DONE]"))
                let answered = ContinuousClock.now
                try await waitFor(stallTimeout: .seconds(15)) { upstream.closed == 1 }
                #expect(ContinuousClock.now - answered < .seconds(15), "closed at the grace, not when the end came")
            }
        }
    }
}
