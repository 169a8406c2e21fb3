import Foundation
import HTTPTypes
import Testing

@testable import MultiProdigyServer

/// The real `multiprodigy serve` at `--log-level trace`, with canary secrets in its environment
/// and in its configuration file: through a request, reloads (by SIGHUP, by a changed file, a
/// refused file), an upstream error quoting its key and a SIGTERM, no canary reaches its output.
@Suite(.serialized) struct SecretCanaryTests {
    /// What every canary ends with: one search finds them all.
    private static let marker = "q7z3x9"

    private static func yaml(upstreamPort: Int, headerCanary: String, extra: String = "") -> String {
        """
        auth:
          master_key: ${MULTIPRODIGY_MASTER_KEY}
        providers:
          fromenv: {type: openai, base_url: "http://127.0.0.1:\(upstreamPort)/v1", api_key: "${CANARY_PROVIDER_KEY}", locality: cloud}
          literal:
            type: openai
            base_url: "http://127.0.0.1:\(upstreamPort)/v1"
            api_key: canary-literal-\(marker)
            headers: {X-Canary-Token: \(headerCanary)}
            locality: cloud
        models:
          echoing: {provider: fromenv, model: upstream-model}
          plain: {provider: literal, model: upstream-model}
        \(extra)
        """
    }

    @Test func noCanarySecretAppearsInTheOutputAtTraceLevel() async throws {
        // Every request is answered with an error quoting its credentials unless a success is
        // scripted for it. Cloud providers are not probed, so the script meets only these requests.
        let upstream = FakeUpstream(
            .echoing(
                header: "authorization",
                FakeBehaviourBox(
                    .respond(
                        status: .badRequest,
                        body: #"{"error":{"message":"Rejected Authorization: {ECHO} (key {ECHO_TOKEN})","type":"invalid_request_error"}}"#
                    )
                )
            )
        )
        upstream.script([.respond(status: .ok, body: FakeUpstream.completion())])
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { upstreamPort in
            let configPath = try temporaryFile(Self.yaml(upstreamPort: upstreamPort, headerCanary: "canary-header-\(Self.marker)"))
            defer { try? FileManager.default.removeItem(atPath: configPath) }
            let gateway = GatewayProcess(arguments: ["serve", "--config", configPath, "--listen", "127.0.0.1:0", "--log-level", "trace"])
            let masterKey = "canary-master-\(Self.marker)"
            gateway.process.environment = ProcessInfo.processInfo.environment.merging(
                [
                    "MULTIPRODIGY_MASTER_KEY": masterKey,
                    "CANARY_PROVIDER_KEY": "canary-provider-\(Self.marker)",
                    "CANARY_UNRELATED": "canary-unrelated-\(Self.marker)",
                ],
                uniquingKeysWith: { _, canary in canary }
            )
            try await gateway.startServing()
            let client = GatewayClient(port: gateway.port)
            let authorization = [("authorization", "Bearer \(masterKey)")]
            func chat(_ model: String) async throws -> GatewayClient.Reply {
                try await client.send(body: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#, headers: authorization)
            }
            func waitForLog(_ text: String, count: Int = 1) async throws {
                try await waitFor(progress: { gateway.log.utf8.count }) { gateway.log.components(separatedBy: text).count - 1 >= count }
                #expect(gateway.log.components(separatedBy: text).count - 1 >= count, "waited for '\(text)'")
            }

            #expect(try await chat("plain").status == 200)
            #expect(upstream.requests.last?.headers[HTTPField.Name("X-Canary-Token")!] == "canary-header-\(Self.marker)")

            kill(gateway.process.processIdentifier, SIGHUP)
            try await waitForLog("configuration reloaded")

            let rejected = try await chat("echoing")
            #expect(rejected.status == 400)
            #expect(upstream.requests.last?.headers[.authorization] == "Bearer canary-provider-\(Self.marker)")
            #expect(!rejected.body.contains(Self.marker))

            // A refused file carries a secret the gateway never learns: its problems are logged, not its values.
            try Self.yaml(upstreamPort: upstreamPort, headerCanary: "canary-refused-\(Self.marker)", extra: "bogus: 1")
                .write(toFile: configPath, atomically: true, encoding: .utf8)
            try await waitForLog("was not applied")
            try Self.yaml(upstreamPort: upstreamPort, headerCanary: "canary-rotated-\(Self.marker)")
                .write(toFile: configPath, atomically: true, encoding: .utf8)
            try await waitForLog("configuration reloaded", count: 2)
            upstream.script([.respond(status: .ok, body: FakeUpstream.completion())])
            #expect(try await chat("plain").status == 200)
            #expect(upstream.requests.last?.headers[HTTPField.Name("X-Canary-Token")!] == "canary-rotated-\(Self.marker)")

            kill(gateway.process.processIdentifier, SIGTERM)
            // Less than the 60 s drain_timeout that a drain which did not end by itself would take.
            #expect(await gateway.waitForExit(timeout: .seconds(50)) == 0)
            let output = gateway.log
            // The most verbose level really was on: the service lifecycle's debug lines are there.
            #expect(output.contains("Starting service"))
            #expect(output.contains("ConfigReloadService"))
            let leaks = output.split(separator: "\n").filter { $0.contains(Self.marker) }
            #expect(leaks.isEmpty, "lines with a canary:\n\(leaks.joined(separator: "\n"))")
        }
    }
}
