import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import Testing

/// A configuration reload and a SIGTERM, each under concurrent load, drop no request.
@Suite struct ReloadAndDrainTests {
    private static let slowAnswer = FakeBehaviour.delayed(
        .milliseconds(50),
        then: FakeBehaviourBox(.respond(status: .ok, body: FakeUpstream.completion()))
    )

    /// Tells the load loops to stop.
    final class StopFlag: Sendable {
        private let flag = Atomic(false)
        var isSet: Bool { flag.load(ordering: .relaxed) }
        func set() { flag.store(true, ordering: .relaxed) }
    }

    /// Sends requests from `clients` concurrent loops until `stop` is set; returns every status seen.
    private static func load(_ gateway: GatewayClient, clients: Int, until stop: StopFlag) async -> [Int] {
        await withTaskGroup(of: [Int].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var statuses: [Int] = []
                    while !stop.isSet {
                        statuses.append((try? await gateway.chat("r").status) ?? -1)
                    }
                    return statuses
                }
            }
            var all: [Int] = []
            for await statuses in group { all += statuses }
            return all
        }
    }

    @Test func aChangedFileIsReloadedUnderLoadWithoutDroppingARequestAndABadFileIsRefused() async throws {
        let first = FakeUpstream(Self.slowAnswer)
        let second = FakeUpstream(Self.slowAnswer)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("reload-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let yaml = """
            providers:
            \(fakeProvider("a", index: 0))\(fakeProvider("b", index: 1))
            models:
              one: {provider: a}
              two: {provider: b}
            routes:
              r: {targets: [one]}
            """
        try await withGateway(upstreams: [first, second], yaml: yaml, reloadingFrom: path) { gateway in
            let stop = StopFlag()
            async let statuses = Self.load(gateway, clients: 16, until: stop)
            try await waitFor { first.requests.count > 10 }
            let written = try String(contentsOfFile: path, encoding: .utf8)
            try written.replacingOccurrences(of: "r: {targets: [one]}", with: "r: {targets: [two]}").write(
                toFile: path,
                atomically: true,
                encoding: .utf8
            )
            try await waitFor { second.requests.count > 20 }
            // A broken file is refused: the running configuration stays.
            try "routes: {r: {targets: [nowhere]}}\nbogus: 1\n".write(toFile: path, atomically: true, encoding: .utf8)
            try await Task.sleep(for: .milliseconds(400))
            let countAfterBadFile = second.requests.count
            // Requests keep reaching the second target, however slowly a busy machine sends them.
            try await waitFor { second.requests.count > countAfterBadFile }
            stop.set()
            let seen = await statuses
            #expect(seen.count > 30, "requests kept flowing through the reloads")
            #expect(seen.allSatisfy { $0 == 200 }, "statuses other than 200: \(seen.filter { $0 != 200 })")
            #expect(first.requests.count > 0)
            #expect(second.requests.count > countAfterBadFile, "the bad file left route r on the second target")
            let after = try await gateway.chat("r")
            #expect(after.headers.first(name: "x-multiprodigy-model") == "two")
        }
    }

    @Test func sighupReloadsAndSigtermUnderLoadDrainsEveryRequest() async throws {
        let upstream = FakeUpstream(
            .delayed(.milliseconds(400), then: FakeBehaviourBox(.respond(status: .ok, body: FakeUpstream.completion())))
        )
        try await withService({ onPort in try await upstream.run(onPort: onPort) }) { port in
            let yaml = { (route: String) in
                """
                providers:
                  a: {type: openai, base_url: "http://127.0.0.1:\(port)/v1", locality: local}
                models:
                  one: {provider: a}
                  two: {provider: a, model: other}
                routes:
                  r: {targets: [\(route)]}
                """
            }
            let path = try temporaryFile(yaml("one"))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let gateway = GatewayProcess(arguments: ["serve", "--config", path, "--listen", "127.0.0.1:0"])
            try await gateway.startServing()
            let client = GatewayClient(port: gateway.port)
            #expect(try await client.chat("r").headers.first(name: "x-multiprodigy-model") == "one")

            try yaml("two").write(toFile: path, atomically: true, encoding: .utf8)
            kill(gateway.process.processIdentifier, SIGHUP)
            try await waitFor { gateway.log.contains("configuration reloaded") }
            #expect(gateway.log.contains("SIGHUP: reloading"), "\(gateway.log)")
            #expect(try await client.chat("r").headers.first(name: "x-multiprodigy-model") == "two")

            // 40 requests in flight (the upstream holds each for 400 ms); SIGTERM lands once all
            // have reached the upstream. A client with a big enough pool sends them at once.
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let before = upstream.requests.count
            let results = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        var request = HTTPClientRequest(url: client.baseURL + "/v1/chat/completions")
                        request.method = .POST
                        request.headers.add(name: "content-type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: #"{"model":"r","messages":[{"role":"user","content":"hi"}]}"#))
                        let response = try await http.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        return Int(response.status.code)
                    }
                }
                try await waitFor { upstream.requests.count - before == 40 }
                kill(gateway.process.processIdentifier, SIGTERM)
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            try await http.shutdown()
            #expect(results.count == 40)
            #expect(results.allSatisfy { $0 == 200 }, "\(results)")
            // Less than the 60 s drain_timeout that a drain which did not end by itself would take.
            #expect(await gateway.waitForExit(timeout: .seconds(50)) == 0)
        }
    }
}
