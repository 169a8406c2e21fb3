import AsyncHTTPClient
import Foundation
import NIOCore
import TestFixtures
import Testing

/// The real executable: SIGTERM drains in-flight requests; `check` reports config problems.
@Suite(.serialized) struct LifecycleTests {
    @Test func sigtermDrainsInFlightRequestsThenExitsCleanly() async throws {
        // Every request, non-streaming ones included, reaches the upstream as this 800 ms stream.
        let upstream = FakeUpstream(
            .stream(events: FakeUpstream.stream(["a", "b", "c", "d", "e", "f", "g", "h"]), delay: .milliseconds(100))
        )
        let yaml = { @Sendable (upstreamPort: Int) in
            """
            providers:
              fake: {type: openai, base_url: "http://127.0.0.1:\(upstreamPort)/v1", locality: local}
            models:
              small: {provider: fake}
            """
        }
        try await withServingGatewayProcess(upstream: upstream, yaml: yaml) { gateway, client in
            async let first = client.chat("small")
            async let second = client.chat("small")
            async let streamed = client.chat("small", stream: true)
            try await waitFor(progress: { upstream.requests.count }) { upstream.requests.count >= 3 }
            try #require(upstream.requests.count >= 3)
            kill(gateway.process.processIdentifier, SIGTERM)
            let replies = try await [first, second, streamed]
            #expect(replies.map(\.status) == [200, 200, 200], "\(gateway.log)")
            // The non-streaming requests are assembled from the same trickled stream.
            #expect(replies[0].body.contains("abcdefgh"))
            #expect(replies[1].body.contains("abcdefgh"))
            #expect(replies[2].events.last == "[DONE]")
            #expect(replies[2].events.count == 11)
            // Less than the 60 s drain_timeout that a drain which did not end by itself would take.
            let status = await gateway.waitForExit(timeout: .seconds(50))
            #expect(status == 0, "\(gateway.log)")
        }
    }

    @Test func checkReportsEachProblemWithPathLineAndFix() async throws {
        let configPath = try temporaryFile(
            """
            providers:
              p: {type: openai, base_url: "http://127.0.0.1:1/v1"}
            models:
              m: {provider: p}
            routes:
              auto:
                targets: [m, mm]
                polcy: ordered
            """
        )
        defer { try? FileManager.default.removeItem(atPath: configPath) }
        let (status, output) = try await GatewayProcess(arguments: ["check", "--config", configPath]).runToExit()
        #expect(status == 2)
        #expect(output.contains("2 configuration problems"))
        #expect(output.contains("line 8: routes.auto.polcy: unknown key 'polcy'. Fix: did you mean 'policy'?"))
        #expect(output.contains("line 7: routes.auto.targets[1]: 'mm' is neither a declared model nor provider/model (did you mean 'm'?)"))
    }

    @Test func checkListsProvidersModelsAndRoutesOfTheDefaultConfig() async throws {
        let path = Fixtures.repositoryRoot.appendingPathComponent("config/gateway.yaml").path
        let gateway = GatewayProcess(arguments: ["check", "--config", path])
        gateway.process.environment = ["PATH": "/usr/bin:/bin"]
        let (status, output) = try await gateway.runToExit()
        #expect(status == 0)
        #expect(output.contains("openai  type=openai  cloud  https://api.openai.com/v1  disabled: OPENAI_API_KEY is not set"))
        #expect(output.contains("ollama  type=ollama  local  http://127.0.0.1:11434  enabled"))
        #expect(
            output.contains("gemini  type=gemini  cloud  https://generativelanguage.googleapis.com  disabled: GEMINI_API_KEY is not set")
        )
        #expect(output.contains("auto [balanced]: gpt-4o-mini -> gemini-2.5-flash; fallback: llama3.2"))
    }
}
