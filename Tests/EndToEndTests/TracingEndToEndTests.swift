import Foundation
import HTTPTypes
import Logging
import Synchronization
import Testing

/// Tracing as the upstream sees it, in process: with `tracing.enabled` each upstream call carries
/// the `traceparent` of its attempt, in the client's trace; without it, none, not even the
/// client's; and a reload that turns tracing on only says it waits for the next start. (The spans
/// themselves are checked by a real OTLP receiver: tests-python/test_tracing.py.)
@Suite struct TracingEndToEndTests {
    private static let clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    private static let clientTraceparent = "00-\(clientTraceID)-00f067aa0ba902b7-01"
    private static let yaml = """
        providers:
        \(fakeProvider("a", index: 0))
        models:
          one: {provider: a}
        routes:
          r: {targets: [one]}
        """

    /// Log lines, kept to be read.
    final class LogLines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }

        var logger: Logger {
            Logger(label: "tracing-under-test") { _ in Handler(lines: self) }
        }

        struct Handler: LogHandler {
            let lines: LogLines
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .info
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                lines.lines.withLock { $0.append("\(event.message)") }
            }
        }
    }

    private static func traceparent(of request: RecordedRequest) -> String? {
        request.headers[HTTPField.Name("traceparent")!]
    }

    @Test func aTracedGatewaySendsEachUpstreamCallItsAttemptsTraceparentInTheClientsTrace() async throws {
        let upstream = FakeUpstream()
        // Nothing listens on port 9: the exporter's failures must not touch the requests.
        let traced = Self.yaml + "\ntracing: {enabled: true, endpoint: \"http://127.0.0.1:9/v1/traces\"}\n"
        try await withGateway(upstreams: [upstream], yaml: traced) { gateway in
            let reply = try await gateway.send(
                body: #"{"model":"r","messages":[{"role":"user","content":"hi"}]}"#,
                headers: [("traceparent", Self.clientTraceparent)]
            )
            #expect(reply.status == 200)
            _ = try await gateway.chat("r")
        }
        let sent = upstream.requests.compactMap(Self.traceparent)
        #expect(sent.count == 2)
        let parts = sent.first?.split(separator: "-").map(String.init) ?? []
        #expect(parts.count == 4)
        #expect(parts.first == "00")
        #expect(parts.dropFirst().first == Self.clientTraceID)
        // The parent is the gateway's attempt span, not the client's span.
        #expect(parts.dropFirst(2).first != "00f067aa0ba902b7")
        #expect(parts.last == "01")
        // A request without a traceparent starts a trace of its own.
        #expect(sent.last.map { !$0.contains(Self.clientTraceID) } == true)
    }

    @Test func anUntracedGatewaySendsNoTraceparentAndAReloadThatEnablesTracingWaitsForTheNextStart() async throws {
        let upstream = FakeUpstream()
        let logs = LogLines()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tracing-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withGateway(upstreams: [upstream], yaml: Self.yaml, reloadingFrom: path, logger: logs.logger) { gateway in
            let before = try await gateway.send(
                body: #"{"model":"r","messages":[{"role":"user","content":"hi"}]}"#,
                headers: [("traceparent", Self.clientTraceparent)]
            )
            #expect(before.status == 200)
            let written = try String(contentsOfFile: path, encoding: .utf8)
            try (written + "\ntracing: {enabled: true, endpoint: \"http://127.0.0.1:9/v1/traces\"}\n").write(
                toFile: path,
                atomically: true,
                encoding: .utf8
            )
            try await waitFor { logs.all.contains("tracing changed; it takes effect at the next start") }
            #expect(logs.all.contains("tracing changed; it takes effect at the next start"))
            let after = try await gateway.send(
                body: #"{"model":"r","messages":[{"role":"user","content":"hi"}]}"#,
                headers: [("traceparent", Self.clientTraceparent)]
            )
            #expect(after.status == 200)
        }
        #expect(upstream.requests.count == 2)
        #expect(upstream.requests.allSatisfy { Self.traceparent(of: $0) == nil })
    }
}
