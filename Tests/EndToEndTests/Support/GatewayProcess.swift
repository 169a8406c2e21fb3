import Foundation

/// The built `multiprodigy` executable, run as a child process the way users run it.
final class GatewayProcess: @unchecked Sendable {
    let process = ChildProcess()
    let logURL: URL
    private(set) var port = 0

    /// An executable next to the test bundle (`swift test` builds it, as the test target depends on it).
    static func executableURL(_ name: String = "multiprodigy") -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    }

    init(executable: String = "multiprodigy", arguments: [String]) {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("multiprodigy-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = Self.executableURL(executable)
        process.arguments = arguments
        // A relative `storage:` (the default `./multiprodigy.db`) lands in a directory of its own.
        let workingDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("multiprodigy-cwd-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: workingDirectory, withIntermediateDirectories: true)
        process.currentDirectoryURL = workingDirectory
        process.standardError = try? FileHandle(forWritingTo: logURL)
        process.standardOutput = process.standardError
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Starts the process and waits until it logs the port it listens on.
    func startServing() async throws {
        try ProcessLaunch.run(process)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let line = log.split(separator: "\n").first(where: { $0.contains("multiprodigy listening on") }),
                let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces).prefix { $0.isNumber }) })
            {
                self.port = port
                return
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw GatewayProcessError(message: "the gateway did not start:\n\(log)")
    }

    /// Runs to completion and returns the exit status and output.
    ///
    /// Polls rather than blocks: a test that blocked one of the few threads of Swift's cooperative
    /// pool while a process ran stalled every other test running beside it, for as long.
    func runToExit() async throws -> (status: Int32, output: String) {
        try ProcessLaunch.run(process)
        let deadline = ContinuousClock.now + .seconds(120)
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning {
            process.terminate()
            throw GatewayProcessError(message: "the command did not exit within 120 s:\n\(log)")
        }
        return (process.terminationStatus, log)
    }

    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: logURL)
        if let workingDirectory = process.currentDirectoryURL { try? FileManager.default.removeItem(at: workingDirectory) }
    }
}

struct GatewayProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Writes `text` to a temporary file and returns its path.
func temporaryFile(_ text: String, suffix: String = ".yaml") throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mp-\(UUID().uuidString)\(suffix)")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// Runs `upstream` in this process and the real `multiprodigy serve` in front of it, on the config
/// `yaml` makes from the upstream's port (with one provider `fake`, say), until `body` returns.
func withServingGatewayProcess<T: Sendable>(
    upstream: FakeUpstream,
    arguments: [String] = [],
    yaml: @escaping @Sendable (_ upstreamPort: Int) -> String,
    _ body: @escaping @Sendable (GatewayProcess, GatewayClient) async throws -> T
) async throws -> T {
    try await withService({ onPort in try await upstream.run(onPort: onPort) }) { upstreamPort in
        let configPath = try temporaryFile(yaml(upstreamPort))
        defer { try? FileManager.default.removeItem(atPath: configPath) }
        let gateway = GatewayProcess(arguments: ["serve", "--config", configPath, "--listen", "127.0.0.1:0"] + arguments)
        try await gateway.startServing()
        return try await body(gateway, GatewayClient(port: gateway.port))
    }
}
