import Foundation

/// Several real `multiprodigy serve` processes sharing one PostgreSQL database, in front of one
/// fake upstream: the replicas of a team's gateway, as tests start, kill and restart them.
///
/// Each replica has its own working directory and usage journal folder, kept across a restart so
/// that a replica killed with SIGKILL replays its journal when it comes back.
final class ReplicaSet: @unchecked Sendable {
    /// The master key every replica shares.
    static let master = "replica-master-key-0123456789"
    static let masterHeader = [("authorization", "Bearer \(master)")]

    let postgres: PostgresServer
    /// The database URL, password included.
    let storage: String
    let upstreamPort: Int
    /// Extra `storage:` settings (such as `on_unavailable: closed`).
    let storageExtras: String
    private let directory: URL
    private let lock = NSLock()
    private var processes: [GatewayProcess?]

    init(postgres: PostgresServer, storage: String, upstreamPort: Int, count: Int, storageExtras: String = "") {
        self.postgres = postgres
        self.storage = storage
        self.upstreamPort = upstreamPort
        self.storageExtras = storageExtras
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-replicas-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        processes = Array(repeating: nil, count: count)
    }

    deinit {
        for process in processes.compactMap({ $0 }) where process.process.isRunning { process.process.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The config of replica `index`: a cloud model at 1 USD per answer token and nothing per
    /// prompt token, so a request's cost is its `max_tokens` at most.
    func yaml(index: Int) -> String {
        """
        auth: {master_key: \(Self.master)}
        storage:
          url: "\(storage)"
          journal: \(journalDirectory(index))
        \(storageExtras)
        providers:
          cloud: {type: openai, base_url: "http://127.0.0.1:\(upstreamPort)/v1", locality: cloud}
        models:
          paid: {provider: cloud, price: {input: 0, output: 1000000}}
        """
    }

    /// The usage journal folder of replica `index`.
    func journalDirectory(_ index: Int) -> String {
        directory.appendingPathComponent("journal-\(index)").path
    }

    /// Starts replica `index` (again, after a kill) and waits until it listens.
    func start(_ index: Int) async throws {
        let configPath = directory.appendingPathComponent("gateway-\(index).yaml").path
        try yaml(index: index).write(toFile: configPath, atomically: true, encoding: .utf8)
        let process = GatewayProcess(arguments: ["serve", "--config", configPath, "--listen", "127.0.0.1:0"])
        lock.withLock { processes[index] = process }
        try await process.startServing()
    }

    /// Starts every replica at the same moment.
    func startAll() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in processes.indices { group.addTask { try await self.start(index) } }
            try await group.waitForAll()
        }
    }

    /// The running process of replica `index`.
    func process(_ index: Int) -> GatewayProcess? { lock.withLock { processes[index] } }

    /// A client of replica `index`.
    func client(_ index: Int) -> GatewayClient { GatewayClient(port: process(index)?.port ?? 0) }

    /// The number of replicas.
    var count: Int { lock.withLock { processes.count } }

    /// Kills replica `index` with SIGKILL and waits for it to be gone.
    func kill(_ index: Int) async {
        guard let process = process(index) else { return }
        Foundation.kill(process.process.processIdentifier, SIGKILL)
        _ = await process.waitForExit(timeout: .seconds(10))
    }

    /// Stops replica `index` gracefully (SIGTERM) and waits for it to exit.
    func stop(_ index: Int) async -> Int32? {
        guard let process = process(index) else { return nil }
        process.process.terminate()
        return await process.waitForExit(timeout: .seconds(30))
    }

    /// Every replica's log, for failure messages and secret canaries.
    var logs: String { lock.withLock { processes.compactMap { $0?.log }.joined(separator: "\n---\n") } }

    /// Creates a key through replica `index`'s `/admin/keys`; returns its secret.
    func createKey(through index: Int, _ settings: String) async throws -> String {
        let reply = try await client(index).send(.POST, "/admin/keys", body: settings, headers: Self.masterHeader)
        guard reply.status == 201, let secret = reply.json["key"] as? String else {
            throw GatewayProcessError(message: "creating a key failed: \(reply.status) \(reply.body)")
        }
        return secret
    }

    /// A chat request to replica `index` with the virtual key `secret`, at most `maxTokens` answer tokens.
    func chat(_ index: Int, key secret: String, maxTokens: Int = 4) async throws -> GatewayClient.Reply {
        try await client(index).send(
            body: #"{"model":"paid","max_tokens":\#(maxTokens),"messages":[{"role":"user","content":"hi"}]}"#,
            headers: [("authorization", "Bearer \(secret)")]
        )
    }

    /// Runs psql on the replicas' database and returns its output, trimmed.
    ///
    /// On a Dispatch thread: psql blocks for tens of milliseconds, and the suite's parallel tests
    /// share the few threads of Swift's cooperative pool (a blocked one delays their timers).
    func query(_ sql: String) async throws -> String {
        let (postgres, storage) = (self.postgres, self.storage)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try postgres.psql(sql, url: storage).trimmingCharacters(in: .whitespacesAndNewlines) })
            }
        }
    }

    /// Waits until `sql` prints `expected`, as long as its output keeps changing (at most 20 s
    /// without a change, 300 s in all); returns the last output.
    @discardableResult
    func waitForQuery(_ sql: String, toPrint expected: String) async throws -> String {
        var last = try await query(sql)
        var lastChange = ContinuousClock.now
        let start = lastChange
        for _ in 0..<3000 where last != expected {
            try await Task.sleep(for: .milliseconds(100))
            let current = (try? await query(sql)) ?? last
            if current != last {
                last = current
                lastChange = .now
            } else if ContinuousClock.now - lastChange > .seconds(20) || ContinuousClock.now - start > .seconds(300) {
                break
            }
        }
        return last
    }

    /// Runs the `multiprodigy` command line to its exit.
    static func runCommand(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await GatewayProcess(arguments: arguments).runToExit()
    }
}
