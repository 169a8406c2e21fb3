import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

@testable import MultiProdigyConfig
@testable import MultiProdigyPrivacy
@testable import MultiProdigyProviders
@testable import MultiProdigyServer

/// Runs `service` in the background, gives `body` the port it bound, and stops it afterwards.
func withService<T: Sendable>(
    _ service: @escaping @Sendable (@escaping @Sendable (Int) async -> Void) async throws -> Void,
    _ body: (Int) async throws -> T
) async throws -> T {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await service { port in continuation.yield(port) }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        let result = try await body(port)
        group.cancelAll()
        return result
    }
}

/// Runs fake upstreams, then a gateway whose config is `yaml` with `{PORT0}`, `{PORT1}`, … replaced.
func withGateway<T: Sendable>(
    upstreams: [FakeUpstream],
    yaml: String,
    environment: [String: String] = [:],
    tlsUpstreams: Bool = false,
    healthChecks: Bool = false,
    reloadingFrom configFile: String? = nil,
    logger: Logger? = nil,
    knownSecrets: KnownSecrets? = nil,
    _ body: (GatewayClient) async throws -> T
) async throws -> T {
    try await withUpstreams(upstreams, tls: tlsUpstreams, ports: []) { ports in
        var text = yaml
        if tlsUpstreams {
            // Every fake speaks TLS with the test CA's certificate, which the gateway trusts through
            // `ca_file`: each provider of a fake gets both.
            let caFile = TestCertificateAuthority.shared.caFile
            for quote in ["\"", ""] {
                text = text.replacingOccurrences(
                    of: "base_url: \(quote)http://127.0.0.1:{PORT",
                    with: "ca_file: \"\(caFile)\", base_url: \(quote)https://127.0.0.1:{PORT"
                )
            }
        }
        for (index, port) in ports.enumerated() { text = text.replacingOccurrences(of: "{PORT\(index)}", with: String(port)) }
        var config = try ConfigLoader(environment: environment).load(yaml: text, source: "test")
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("mp-\(UUID().uuidString).db").path
        if !text.contains("storage:") {
            // Every gateway under test keeps its keys and ledger in a database of its own.
            config.storage = "sqlite:" + database
        }
        defer {
            for suffix in ["", "-wal", "-shm", "-usage-journal"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        }
        var quiet = Logger(label: "gateway-under-test")
        quiet.logLevel = .critical
        var configured = Gateway(config: config, logger: logger ?? quiet)
        if let knownSecrets { configured.knownSecrets = knownSecrets }
        configured.runsHealthChecks = healthChecks
        if let configFile {
            // The file holds the configuration with the fakes' ports, watched for changes.
            try text.write(toFile: configFile, atomically: true, encoding: .utf8)
            configured.configPath = configFile
            configured.environment = environment
            configured.reloadPollInterval = .milliseconds(100)
        }
        let gateway = configured
        return try await withService({ onPort in
            try await gateway.run(
                gracefulShutdownSignals: [],
                listenAddress: ListenAddress(host: "127.0.0.1", port: 0),
                onListening: onPort
            )
        }) { port in
            try await body(GatewayClient(port: port))
        }
    }
}

private func withUpstreams<T: Sendable>(
    _ upstreams: [FakeUpstream],
    tls: Bool,
    ports: [Int],
    _ body: ([Int]) async throws -> T
) async throws -> T {
    guard let first = upstreams.first else { return try await body(ports) }
    let tlsConfiguration = tls ? try TestCertificateAuthority.shared.serverConfiguration : nil
    return try await withService({ onPort in try await first.run(tls: tlsConfiguration, onPort: onPort) }) { port in
        try await withUpstreams(Array(upstreams.dropFirst()), tls: tls, ports: ports + [port], body)
    }
}

/// A minimal client for the gateway under test.
struct GatewayClient: Sendable {
    let port: Int
    /// Whether a redirect is followed (the dashboard's tests look at them).
    var followsRedirects = true
    /// A client that answers redirects as they come.
    private static let withoutRedirects = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow)
    )
    var baseURL: String { "http://127.0.0.1:\(port)" }

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: String

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
        /// The `data:` payloads of an SSE body.
        var events: [String] {
            body.components(separatedBy: "\n\n").compactMap { $0.hasPrefix("data: ") ? String($0.dropFirst(6)) : nil }
        }
    }

    func send(
        _ method: HTTPMethod = .POST,
        _ path: String = "/v1/chat/completions",
        body: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        // A hang guard: 60 s, more than the stalls of a machine busy with a build beside the suite
        // (15 s seen), so that the tests' bounds (at most half of it) are what fails.
        let http = followsRedirects ? HTTPClient.shared : Self.withoutRedirects
        let response = try await http.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    func chat(_ model: String, stream: Bool = false, extra: String = "") async throws -> Reply {
        try await send(body: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}],"stream":\#(stream)\#(extra)}"#)
    }
}

/// A provider block for a fake upstream at `{PORT<index>}`.
func fakeProvider(_ name: String, index: Int, locality: String = "local", options: String? = nil) -> String {
    let options = options.map { ", options: \($0)" } ?? ""
    return "  \(name): {type: openai, base_url: http://127.0.0.1:{PORT\(index)}/v1, locality: \(locality)\(options)}\n"
}

/// Waits until `condition` holds, for as long as `progress` moves: gives up only when it has not
/// moved for `stallTimeout`, or after `limit` in all; the caller's next expectation then reports
/// the failure. `progress` is a count that grows while what is awaited is on its way (bytes
/// received, requests seen); without one this waits `stallTimeout`. Only a failing test waits that
/// long, so it is generous: a machine whose two cores run the whole suite beside another build can
/// take seconds for what takes milliseconds alone.
func waitFor(
    stallTimeout: Duration = .seconds(30),
    limit: Duration = .seconds(300),
    progress: () -> Int = { 0 },
    _ condition: () -> Bool
) async throws {
    let poll = Duration.milliseconds(20)
    let start = ContinuousClock.now
    var lastProgress = start
    var seen = progress()
    for _ in 0..<Int(limit / poll) {
        if condition() { return }
        let now = ContinuousClock.now
        let current = progress()
        if current != seen {
            seen = current
            lastProgress = now
        } else if now - lastProgress >= stallTimeout || now - start >= limit {
            return
        }
        try await Task.sleep(for: poll)
    }
}

/// An upstream client for tests that build providers themselves, shared by the whole process.
let testTransport = UpstreamTransport(group: MultiThreadedEventLoopGroup.singleton, connectTimeout: .seconds(10))
