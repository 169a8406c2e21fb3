import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import MultiProdigyProviders

/// `server.upstream_idle_timeout` through the real server: an upstream connection left idle that
/// long is closed (the upstream sees it go), one used again sooner is reused.
@Suite struct UpstreamIdleTimeoutTests {
    private static func yaml(port: Int, idleTimeout: String?) -> String {
        """
        \(idleTimeout.map { "server: {upstream_idle_timeout: \($0)}" } ?? "")
        providers:
          local: {type: openai, base_url: "http://127.0.0.1:\(port)/v1", locality: local}
        models:
          small: {provider: local}
        """
    }

    /// Runs a gateway in front of a counting upstream.
    private static func withCountingUpstream(
        idleTimeout: String?,
        _ body: (ConnectionCountingUpstream, GatewayClient) async throws -> Void
    ) async throws {
        let upstream = ConnectionCountingUpstream()
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            try await withGateway(upstreams: [], yaml: Self.yaml(port: port, idleTimeout: idleTimeout)) { gateway in
                try await body(upstream, gateway)
            }
        }
    }

    @Test func anIdleUpstreamConnectionIsClosedAfterTheIdleTimeout() async throws {
        try await Self.withCountingUpstream(idleTimeout: "300ms") { upstream, gateway in
            let started = ContinuousClock.now
            #expect(try await gateway.chat("small").status == 200)
            #expect(upstream.accepted == 1)
            try await waitFor { upstream.open == 0 }
            #expect(upstream.open == 0, "the idle connection was closed")
            #expect(ContinuousClock.now - started >= .milliseconds(300), "not before its idle time")
            // The next call opens a new one.
            #expect(try await gateway.chat("small").status == 200)
            #expect(upstream.accepted == 2)
            #expect(upstream.requests == 2)
        }
    }

    @Test func aConnectionUsedAgainWithinTheIdleTimeoutIsReusedAndStaysOpen() async throws {
        try await Self.withCountingUpstream(idleTimeout: nil) { upstream, gateway in
            #expect(try await gateway.chat("small").status == 200)
            try await Task.sleep(for: .milliseconds(600))
            #expect(upstream.open == 1, "kept for the default 60 s")
            #expect(try await gateway.chat("small").status == 200)
            #expect(upstream.accepted == 1, "reused")
            #expect(upstream.requests == 2)
            #expect(upstream.open == 1)
        }
    }

    @Test func theTransportClosesOnlyConnectionsIdleForTheirWholeTimeout() async throws {
        let upstream = ConnectionCountingUpstream()
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            let client = UpstreamTransport(
                group: MultiThreadedEventLoopGroup.singleton,
                connectTimeout: .seconds(1),
                idleTimeout: .seconds(2)
            )
            defer { client.shutdown() }
            let endpoint = try #require(UpstreamEndpoint("http://127.0.0.1:\(port)/v1/chat/completions"))
            let template = try #require(UpstreamRequestTemplate(endpoint: endpoint, headers: ["content-type": "application/json"]))
            let body = ByteBuffer(string: #"{"model":"m","messages":[]}"#)
            // One call every 100 ms for a second: the connection never waits 2 s, so it is kept. A
            // starved machine can stretch a 100 ms sleep past the timeout (18 s for the loop, seen
            // beside a build); each such gap may cost one connection, and only those may.
            var longGaps = 0
            var lastUse: ContinuousClock.Instant?
            for _ in 0..<10 {
                if let lastUse, ContinuousClock.now - lastUse >= .milliseconds(1900) { longGaps += 1 }
                let response = try await client.collect(
                    template,
                    body: body,
                    tls: nil,
                    deadline: .now() + .seconds(5),
                    maxResponseBytes: 1 << 20
                )
                lastUse = .now
                #expect(response.status == .ok)
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect((1...(1 + longGaps)).contains(upstream.accepted), "\(upstream.accepted) connections, \(longGaps) gaps of 1.9 s or more")
            if let lastUse, ContinuousClock.now - lastUse < .milliseconds(1900) { #expect(client.idleConnectionCount == 1) }
            try await waitFor { upstream.open == 0 }
            #expect(upstream.open == 0)
            #expect(client.idleConnectionCount == 0)
        }
    }
}
