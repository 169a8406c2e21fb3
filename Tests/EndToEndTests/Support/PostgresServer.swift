import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private PostgreSQL server for one test: the real server the gateway's shared storage is tested against, no mock.
///
/// It listens on 127.0.0.1 only, on a free port, with its data directory and unix socket in a temporary directory of
/// its own. Over TCP it asks for a password (scram-sha-256), so the gateway is tested with the password in its
/// `storage:` URL; ``psql(_:database:)`` uses the unix socket as the superuser, for a test's own checks.
///
/// The first server of a test process runs `initdb` once into a template cluster (about 1 s; 2 s on a busy machine),
/// with the login role ``user`` and a random password; every server then copies the template and starts `postgres`
/// on the copy, about 0.2 s in all. `initdb` and `postgres` refuse to run as root: as root (CI containers) they run as
/// the `postgres` OS user through `setpriv`, which execs in place so the postmaster is this process's own child.
///
/// ```swift
/// let server = try await PostgresServer.start()
/// defer { server.shutdown() }
/// let url = try server.createDatabase("ledger")  // postgres://multiprodigy:…@127.0.0.1:PORT/ledger?sslmode=disable
/// try await server.stop()                         // an outage…
/// try await server.start()                        // …then the same data on the same port
/// let count = try server.psql("SELECT count(*) FROM usage", database: "ledger")
/// ```
///
/// The binaries are PostgreSQL 15's in `/usr/lib/postgresql/15/bin` (else the newest installed version there), or the
/// directory in `MULTIPRODIGY_POSTGRES_BIN`. Every wait is bounded in time.
///
/// - warning: Call ``shutdown()`` when done (deinit does it too). Should a test fail before, an `atexit` handler stops
///   every server still running and removes its files, and a watchdog shell does the same within a second or two if
///   the test process dies without running `atexit` handlers (a crash, SIGKILL).
///
/// `@unchecked Sendable`: the only mutable state, the running postmaster, is guarded by `lock`.
final class PostgresServer: @unchecked Sendable {
    /// The login role the gateway connects as; it owns every database ``createDatabase(_:)`` makes.
    static let user = "multiprodigy"

    /// ``user``'s password (random per test process; hexadecimal, so it needs no escaping in a URL).
    let password: String
    /// The TCP port on 127.0.0.1; ``start()`` after ``stop()`` or ``kill()`` listens on it again.
    let port: Int
    /// The server's temporary directory: its data directory `data`, its unix socket and its log `postgres.log`.
    let directory: URL

    private let installation: Installation
    private let lock = NSLock()
    /// The running postmaster (a direct child of this process), nil while stopped.
    private var postmaster: ChildProcess?
    private var isShutDown = false

    private var dataDirectory: URL { directory.appendingPathComponent("data") }
    private var logURL: URL { directory.appendingPathComponent("postgres.log") }

    private init(installation: Installation, password: String, port: Int, directory: URL, postmaster: ChildProcess) {
        self.installation = installation
        self.password = password
        self.port = port
        self.directory = directory
        self.postmaster = postmaster
    }

    deinit { shutdown() }

    // MARK: Starting and stopping

    /// Starts a fresh server: an empty cluster (the template's copy) with the databases `postgres` and nothing else.
    /// - Throws: ``PostgresServerError`` saying what is missing or what the server logged when it would not start.
    static func start() async throws -> PostgresServer {
        let template = try await templateCluster.value
        let installation = template.installation
        // Copying the cluster is most of a start: the copy made in the background after the previous start is used
        // when there is one, and the next one is begun.
        let spare = spareCopy.withLock { spare in
            defer { spare = nil }
            return spare
        }
        let directory = try await (spare ?? copyOfTemplate(template)).value
        spareCopy.withLock { spare in
            if spare == nil { spare = copyOfTemplate(template) }
        }
        // A port found free may be taken before postgres binds it; another one is then tried.
        var lastError: Error?
        for _ in 1...3 {
            do {
                let port = try freeLoopbackPort()
                let postmaster = try await installation.launchPostmaster(directory: directory, port: port)
                return PostgresServer(
                    installation: installation,
                    password: template.password,
                    port: port,
                    directory: directory,
                    postmaster: postmaster
                )
            } catch let error as PostgresServerError where error.portWasTaken {
                lastError = error
            } catch {
                lastError = error
                break
            }
        }
        try? FileManager.default.removeItem(at: directory)
        throw lastError ?? PostgresServerError("PostgreSQL did not start")
    }

    /// Starts the server again on its data and port, after ``stop()`` or ``kill()``; does nothing while it runs.
    /// - Throws: ``PostgresServerError`` when it does not come up within 30 s (or another process took the port).
    func start() async throws {
        let alreadyRunning = lock.withLock { postmaster?.isRunning == true }
        if alreadyRunning { return }
        guard !lock.withLock({ isShutDown }) else { throw PostgresServerError("this PostgreSQL server was shut down") }
        // The port was free when the server first took it, but while it was down a client socket may have been given
        // it (the kernel hands out the same range for outgoing connections): a few tries over some seconds.
        var tries = 0
        while true {
            tries += 1
            do {
                let started = try await installation.launchPostmaster(directory: directory, port: port)
                lock.withLock { postmaster = started }
                return
            } catch let error as PostgresServerError where error.portWasTaken && tries < 5 {
                try await Task.sleep(for: .seconds(2))
            }
        }
    }

    /// Stops the server with a fast shutdown (open sessions are ended, committed data is kept) and waits for it to
    /// exit; if it has not within 30 s, it is killed.
    func stop() async throws {
        guard let running = lock.withLock({ postmaster }) else { return }
        if running.isRunning {
            sendSignal(SIGINT, to: running.processIdentifier)
            let exited = await waitUntil(timeout: .seconds(30)) { !running.isRunning }
            if !exited {
                Self.killTree(of: running)
                _ = await waitUntil(timeout: .seconds(10)) { !running.isRunning }
            }
        }
        Self.unregister(directory)
        lock.withLock { postmaster = nil }
    }

    /// Kills the postmaster and all its processes with SIGKILL, as a crash or an OOM kill would; committed data
    /// survives (``start()`` recovers it). Returns when every one of them is gone (at most 10 s).
    func kill() async throws {
        guard let running = lock.withLock({ postmaster }) else { return }
        let processes = Self.killTree(of: running)
        let gone = await waitUntil(timeout: .seconds(10)) {
            !running.isRunning && processes.allSatisfy { !Self.isAlive($0) }
        }
        Self.unregister(directory)
        lock.withLock { postmaster = nil }
        if !gone { throw PostgresServerError("PostgreSQL's processes \(processes) were still alive 10 s after SIGKILL") }
    }

    /// Stops the server and removes its directory; later calls do nothing. deinit calls it. The data is thrown away,
    /// so it is an immediate shutdown (no checkpoint), bounded in time.
    func shutdown() {
        let running: ChildProcess? = lock.withLock {
            if isShutDown { return nil }
            isShutDown = true
            defer { postmaster = nil }
            return postmaster
        }
        if let running, running.isRunning {
            sendSignal(SIGQUIT, to: running.processIdentifier)
            if !blockingWait(timeout: .seconds(10), until: { !running.isRunning }) {
                Self.killTree(of: running)
                _ = blockingWait(timeout: .seconds(5)) { !running.isRunning }
            }
        }
        Self.unregister(directory)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Whether the postmaster is running.
    var isRunning: Bool { lock.withLock { postmaster?.isRunning == true } }

    /// The postmaster's process id while it runs.
    var processIdentifier: Int32? { lock.withLock { postmaster?.isRunning == true ? postmaster?.processIdentifier : nil } }

    /// What the server logged (connections refused, crashes, recovery), for a failing test's message.
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    // MARK: Databases and SQL

    /// Creates the database `name`, owned by ``user``, and returns its URL with the password:
    /// `postgres://multiprodigy:PASSWORD@127.0.0.1:PORT/name?sslmode=disable`.
    /// - Parameter name: lower-case letters, digits and `_`, starting with a letter or `_` (a plain SQL identifier).
    func createDatabase(_ name: String) throws -> String {
        guard Self.isPlainIdentifier(name) else {
            throw PostgresServerError("'\(name)' is not a plain database name (a-z, 0-9 and _, at most 63 characters)")
        }
        // FILE_COPY copies template1's few files, faster here than the default WAL_LOG (twice, on a small cluster).
        _ = try psql("CREATE DATABASE \(name) OWNER \(Self.user) STRATEGY = FILE_COPY", database: "postgres")
        return url(database: name)
    }

    /// The URL the gateway uses for `database`: ``user`` with its password, over TCP, without TLS.
    func url(database: String) -> String {
        "postgres://\(Self.user):\(password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Runs `sql` (one statement or several, separated by `;`) with `psql -At` as the superuser over the unix socket
    /// and returns what it printed: one line per row, columns separated by `|`, without the trailing newline.
    /// - Throws: ``PostgresServerError`` with psql's message when a statement fails or the server is down.
    func psql(_ sql: String, database: String) throws -> String {
        try runPSQL(sql, connection: ["-h", directory.path, "-p", String(port), "-U", "postgres", "-d", database])
    }

    /// Runs `sql` like ``psql(_:database:)`` but connects with `url` over TCP, as a client of the server would
    /// (a wrong password in `url` makes it throw).
    func psql(_ sql: String, url: String) throws -> String {
        try runPSQL(sql, connection: ["-d", url])
    }

    private func runPSQL(_ sql: String, connection: [String]) throws -> String {
        let script = directory.appendingPathComponent("psql-\(UUID().uuidString).sql")
        try sql.write(to: script, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let result = try installation.run(
            installation.binary("psql"),
            ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"] + connection + ["-f", script.path],
            scratch: directory,
            check: false
        )
        guard result.status == 0 else {
            throw PostgresServerError("psql failed (exit status \(result.status)): \(result.errorOutput)\(result.output)")
        }
        return result.output.hasSuffix("\n") ? String(result.output.dropLast()) : result.output
    }

    private static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63, !("0"..."9").contains(first) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    // MARK: Processes

    /// Sends SIGKILL to `postmaster` and to its children (backends, checkpointer, WAL writer…), so none keeps the old
    /// shared memory attached and a restart on the same data works at once; returns the ids it signalled. The
    /// postmaster is stopped first, so it forks no child after they are listed.
    @discardableResult
    private static func killTree(of postmaster: ChildProcess) -> [Int32] {
        let pid = postmaster.processIdentifier
        sendSignal(SIGSTOP, to: pid)
        let children = childProcesses(of: pid)
        sendSignal(SIGKILL, to: pid)
        for child in children { sendSignal(SIGKILL, to: child) }
        return [pid] + children
    }

    /// The ids of `parent`'s children, read from /proc (empty where there is no /proc).
    static func childProcesses(of parent: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let end = stat.lastIndex(of: ")")
            else { return nil }
            // After the command name in parentheses: state, then the parent's id.
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent ? pid : nil
        }
    }

    /// Whether `pid` is a live process (a zombie, exited but not yet reaped, counts as gone).
    static func isAlive(_ pid: Int32) -> Bool {
        guard sendSignal(0, to: pid) == 0 || errno == EPERM else { return false }
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return true }
        return !status.split(separator: "\n").contains { $0.hasPrefix("State:") && $0.contains("Z") }
    }

    // MARK: The template cluster and the safeguards, once per test process

    /// The servers' binaries and how to run them (as the `postgres` OS user when this process is root).
    private struct Installation: Sendable {
        let binaryDirectory: URL
        /// `setpriv`'s arguments that switch to the `postgres` OS user, when running as root.
        let switchUser: [String]?
        let owner: (uid: uid_t, gid: gid_t)?

        static func find() throws -> Installation {
            let binaryDirectory = try findBinaryDirectory()
            guard geteuid() == 0 else { return Installation(binaryDirectory: binaryDirectory, switchUser: nil, owner: nil) }
            guard let account = getpwnam("postgres") else {
                throw PostgresServerError(
                    "running as root, and initdb refuses to run as root, but there is no 'postgres' OS user to run it as "
                        + "(installing the postgresql-15 package creates one)"
                )
            }
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                throw PostgresServerError("running as root needs /usr/bin/setpriv (util-linux) to run PostgreSQL as the 'postgres' user")
            }
            return Installation(
                binaryDirectory: binaryDirectory,
                switchUser: ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"],
                owner: (account.pointee.pw_uid, account.pointee.pw_gid)
            )
        }

        private static func findBinaryDirectory() throws -> URL {
            let fileManager = FileManager.default
            if let configured = ProcessInfo.processInfo.environment["MULTIPRODIGY_POSTGRES_BIN"], !configured.isEmpty {
                guard fileManager.isExecutableFile(atPath: configured + "/initdb") else {
                    throw PostgresServerError("MULTIPRODIGY_POSTGRES_BIN is \(configured), which has no initdb")
                }
                return URL(fileURLWithPath: configured)
            }
            let root = "/usr/lib/postgresql"
            let versions = ((try? fileManager.contentsOfDirectory(atPath: root)) ?? [])
                .filter { fileManager.isExecutableFile(atPath: "\(root)/\($0)/bin/initdb") }
                .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
            guard let version = versions.first(where: { $0 == "15" }) ?? versions.first else {
                throw PostgresServerError(
                    "PostgreSQL's server binaries are not installed: no \(root)/15/bin/initdb. Install them with "
                        + "`apt-get install postgresql-15` (.ci/run does), or set MULTIPRODIGY_POSTGRES_BIN to the directory "
                        + "that holds initdb, pg_ctl, postgres and psql"
                )
            }
            return URL(fileURLWithPath: "\(root)/\(version)/bin")
        }

        func binary(_ name: String) -> String { binaryDirectory.appendingPathComponent(name).path }

        /// The command line that runs `executable` as the server's owner.
        func asOwner(_ executable: String, _ arguments: [String]) -> (String, [String]) {
            guard let switchUser else { return (executable, arguments) }
            return (switchUser[0], Array(switchUser.dropFirst()) + [executable] + arguments)
        }

        /// Gives `path` to the server's owner (when running as root).
        func chownToOwner(_ path: String) throws {
            guard let owner else { return }
            guard chown(path, owner.uid, owner.gid) == 0 else {
                throw PostgresServerError("could not give \(path) to the postgres user: \(String(cString: strerror(errno)))")
            }
        }

        /// Creates `directory`, private to the server's owner.
        func makeServerDirectory(_ directory: URL) throws {
            try FileManager.default.createDirectory(
                at: directory,
                withIntermediateDirectories: false,
                attributes: [.posixPermissions: 0o700]
            )
            try chownToOwner(directory.path)
        }

        /// Writes `text` to `url`, owned by the server's owner.
        func writeServerFile(_ text: String, to url: URL) throws {
            try text.write(to: url, atomically: false, encoding: .utf8)
            try chownToOwner(url.path)
        }

        /// Runs a command to its end (bounded by `timeout`), its output in files, and returns its exit status and output.
        /// - Parameters:
        ///   - scratch: where the output files go: a directory the exit safeguards remove, should the test process end
        ///     while the command runs.
        ///   - check: throw when the exit status is not 0.
        @discardableResult
        func run(
            _ executable: String,
            _ arguments: [String],
            input: URL? = nil,
            scratch: URL,
            check: Bool = true,
            timeout: Duration = .seconds(120)
        ) throws -> (status: Int32, output: String, errorOutput: String) {
            let outputURL = scratch.appendingPathComponent("output-\(UUID().uuidString)")
            let errorURL = outputURL.appendingPathExtension("err")
            defer {
                try? FileManager.default.removeItem(at: outputURL)
                try? FileManager.default.removeItem(at: errorURL)
            }
            _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
            let output = try FileHandle(forWritingTo: outputURL)
            let errorOutput = try FileHandle(forWritingTo: errorURL)
            defer {
                try? output.close()
                try? errorOutput.close()
            }
            let process = try launch(
                executable,
                arguments,
                input: input.flatMap { FileHandle(forReadingAtPath: $0.path) },
                output: output,
                errorOutput: errorOutput
            )
            guard blockingWait(timeout: timeout, until: { !process.isRunning }) else {
                sendSignal(SIGKILL, to: process.processIdentifier)
                _ = blockingWait(timeout: .seconds(5)) { !process.isRunning }
                throw PostgresServerError("\((executable as NSString).lastPathComponent) did not finish within \(timeout)")
            }
            let result = (
                process.terminationStatus,
                (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "",
                (try? String(contentsOf: errorURL, encoding: .utf8)) ?? ""
            )
            if check, result.0 != 0 {
                throw PostgresServerError(
                    "\((executable as NSString).lastPathComponent) \(arguments.joined(separator: " ")) failed "
                        + "(exit status \(result.0)):\n\(result.2)\(result.1)"
                )
            }
            return result
        }

        /// Starts `postgres` on `directory`/data, listening on 127.0.0.1:`port` and on a unix socket in `directory`,
        /// and waits (at most 30 s) until it accepts connections.
        func launchPostmaster(directory: URL, port: Int) async throws -> ChildProcess {
            let dataDirectory = directory.appendingPathComponent("data")
            let logURL = directory.appendingPathComponent("postgres.log")
            let (executable, arguments) = asOwner(
                binary("postgres"),
                ["-D", dataDirectory.path, "-p", String(port), "-k", directory.path, "-c", "listen_addresses=127.0.0.1"]
            )
            if !FileManager.default.fileExists(atPath: logURL.path) {
                _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
            }
            let log = try FileHandle(forWritingTo: logURL)
            defer { try? log.close() }
            try log.seekToEnd()
            let logStart = try log.offset()
            let postmaster = try launch(executable, arguments, input: nil, output: log, errorOutput: log)
            PostgresServer.register(directory, postmaster: postmaster.processIdentifier)
            let pidFile = dataDirectory.appendingPathComponent("postmaster.pid")
            // postmaster.pid's first line is the postmaster's id (a killed server's stale file names another), its
            // eighth says "ready" once connections are accepted.
            let ready = await waitUntil(timeout: .seconds(30)) {
                guard postmaster.isRunning else { return true }
                let lines = ((try? String(contentsOf: pidFile, encoding: .utf8)) ?? "").split(
                    separator: "\n",
                    omittingEmptySubsequences: false
                )
                return lines.count >= 8 && Int32(lines[0]) == postmaster.processIdentifier
                    && lines[7].trimmingCharacters(in: .whitespaces) == "ready"
            }
            if ready, postmaster.isRunning { return postmaster }
            if postmaster.isRunning { killTree(of: postmaster) }
            PostgresServer.unregister(directory)
            let logged = (try? Data(contentsOf: logURL)).map { String(decoding: $0.dropFirst(Int(logStart)), as: UTF8.self) } ?? ""
            var error = PostgresServerError(
                ready
                    ? "PostgreSQL exited at start on port \(port); it logged:\n\(logged)"
                    : "PostgreSQL did not accept connections within 30 s on port \(port); it logged:\n\(logged)"
            )
            error.portWasTaken = logged.contains("could not bind") || logged.contains("Address already in use")
            throw error
        }
    }

    /// An initialised cluster every server copies, with the role ``PostgresServer/user`` and its password.
    private struct TemplateCluster: Sendable {
        let installation: Installation
        /// The test process's directory for all its servers (removed at exit).
        let root: URL
        let dataDirectory: URL
        let password: String
    }

    private static let templateCluster = Task<TemplateCluster, Error> {
        try await offThePool { try makeTemplateCluster() }
    }

    private static let nextServerNumber = Atomic<Int>(0)

    /// A copy of the template for the next ``start()``, made while the tests run.
    private static let spareCopy = Mutex<Task<URL, Error>?>(nil)

    /// Copies the template cluster into a new server directory, off the shared pool.
    private static func copyOfTemplate(_ template: TemplateCluster) -> Task<URL, Error> {
        Task {
            try await offThePool {
                let directory = template.root.appendingPathComponent("s\(nextServerNumber.add(1, ordering: .relaxed).newValue)")
                try template.installation.makeServerDirectory(directory)
                try template.installation.run(
                    "/bin/cp",
                    ["-a", template.dataDirectory.path, directory.appendingPathComponent("data").path],
                    scratch: template.root
                )
                return directory
            }
        }
    }

    private static func makeTemplateCluster() throws -> TemplateCluster {
        let installation = try Installation.find()
        // As root the servers' files belong to `postgres`, which must reach them: /tmp, not a private TMPDIR.
        let parent = installation.owner == nil ? FileManager.default.temporaryDirectory.path : "/tmp"
        // A short path: a unix socket's path is limited to about 100 bytes.
        let root = URL(fileURLWithPath: parent).appendingPathComponent("mp-pg-\(getpid())-\(UUID().uuidString.prefix(8))")
        try installation.makeServerDirectory(root)
        allServersRoot.withLock { $0 = root.path }
        startSafeguards(root: root)

        let dataDirectory = root.appendingPathComponent("template")
        // 1 MB WAL segments rather than 16 MB: less to copy for every server.
        let (initdb, initdbArguments) = installation.asOwner(
            installation.binary("initdb"),
            [
                "-D", dataDirectory.path, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                "--locale=C", "--no-sync", "--no-instructions", "--wal-segsize=1",
            ]
        )
        try installation.run(initdb, initdbArguments, scratch: root)
        // Only loopback over TCP, always with the password; the unix socket (private to the server's directory) is
        // trusted, for the tests' own psql.
        try installation.writeServerFile(
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
            to: dataDirectory.appendingPathComponent("pg_hba.conf")
        )
        let configuration = dataDirectory.appendingPathComponent("postgresql.conf")
        let settings = """

            # MultiProdigy test server: throwaway data, so no waiting for the disk. A commit still writes its WAL
            # before it returns (synchronous_commit stays on), so a committed row survives the server's SIGKILL:
            # only a crash of the machine could lose it.
            fsync = off
            full_page_writes = off
            shared_buffers = 32MB
            huge_pages = off
            max_connections = 100
            password_encryption = 'scram-sha-256'

            """
        try installation.writeServerFile((try String(contentsOf: configuration, encoding: .utf8)) + settings, to: configuration)

        // The role is made in single-user mode, so the template never has to be started.
        let password = (0..<3).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        let roleScript = root.appendingPathComponent("role.sql")
        try installation.writeServerFile("CREATE ROLE \(user) LOGIN PASSWORD '\(password)'\n", to: roleScript)
        defer { try? FileManager.default.removeItem(at: roleScript) }
        let (postgres, singleUserArguments) = installation.asOwner(
            installation.binary("postgres"),
            ["--single", "-D", dataDirectory.path, "postgres"]
        )
        let result = try installation.run(postgres, singleUserArguments, input: roleScript, scratch: root)
        if (result.output + result.errorOutput).contains("ERROR") {
            throw PostgresServerError("could not create the role \(user) in the template cluster:\n\(result.errorOutput)\(result.output)")
        }
        return TemplateCluster(installation: installation, root: root, dataDirectory: dataDirectory, password: password)
    }

    /// Every server's directory and postmaster id (0 while stopped), for the exit safeguard.
    private static let liveServers = Mutex<[String: Int32]>([:])
    /// The directory holding every server of this test process, removed at exit.
    private static let allServersRoot = Mutex<String?>(nil)

    private static func register(_ directory: URL, postmaster: Int32) {
        liveServers.withLock { $0[directory.path] = postmaster }
    }

    private static func unregister(_ directory: URL) {
        liveServers.withLock { $0[directory.path] = nil }
    }

    /// An `atexit` handler stops the servers still running when the test process exits (a failed test skips its
    /// `shutdown()`), and a watchdog shell, which outlives a crashed or killed test process, does it when that process
    /// is gone without running `atexit` handlers.
    private static func startSafeguards(root: URL) {
        atexit { PostgresServer.stopEveryServerAtExit() }
        let script = """
            alive() { kill -0 "$1" 2>/dev/null && ! grep -qs '^State:.*Z' "/proc/$1/status"; }
            i=0
            while alive "$1"; do sleep 1; done
            for pidfile in "$2"/*/data/postmaster.pid; do
                [ -f "$pidfile" ] && kill -QUIT "$(head -n 1 "$pidfile")" 2>/dev/null
            done
            while [ $i -lt 20 ] && ls "$2"/*/data/postmaster.pid >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
            for pidfile in "$2"/*/data/postmaster.pid; do
                [ -f "$pidfile" ] && kill -KILL "$(head -n 1 "$pidfile")" 2>/dev/null
            done
            rm -rf "$2"
            """
        // Its output goes nowhere: an inherited pipe would keep `swift test` waiting for the end of the output.
        let null = FileHandle.nullDevice
        _ = try? launch(
            "/bin/sh",
            ["-c", script, "postgres-watchdog", String(getpid()), root.path],
            input: null,
            output: null,
            errorOutput: null
        )
    }

    private static func stopEveryServerAtExit() {
        let postmasters = liveServers.withLock { servers in
            defer { servers = [:] }
            return servers.values.filter { $0 > 0 }
        }
        // Immediate shutdown: the postmaster ends its children and exits, within milliseconds.
        for pid in postmasters { sendSignal(SIGQUIT, to: pid) }
        if !blockingWait(timeout: .seconds(3), until: { postmasters.allSatisfy { !isAlive($0) } }) {
            for pid in postmasters { sendSignal(SIGKILL, to: pid) }
        }
        if let root = allServersRoot.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: root) }
    }
}

/// A PostgreSQL test server that could not be set up, started or queried, with what to do about it.
struct PostgresServerError: Error, CustomStringConvertible {
    var message: String
    /// The server could not bind its port (taken since it was found free); another port may work.
    var portWasTaken = false

    init(_ message: String) { self.message = message }

    var description: String { "PostgresServer: \(message)" }
}

// MARK: - Helpers

/// Launches a process with its standard streams set. Launches are serialised with every other launch of the tests
/// (``ProcessLaunch``) and made with `posix_spawn` (``ChildProcess``), not Foundation's crashing `Process.run()`. Output goes to
/// files, never pipes, and nothing waits with `waitUntilExit()` (it would block a thread of the shared pool).
private func launch(
    _ executable: String,
    _ arguments: [String],
    input: FileHandle?,
    output: FileHandle,
    errorOutput: FileHandle
) throws -> ChildProcess {
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    // Nothing from the tests' environment (PGHOST, PGPASSWORD, a ~/.pgpass…) changes where psql connects.
    process.environment = [
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "LC_ALL": "C",
        "PGPASSFILE": "/dev/null",
        "PGCONNECT_TIMEOUT": "10",
    ]
    process.standardInput = input ?? FileHandle.nullDevice
    process.standardOutput = output
    process.standardError = errorOutput
    try ProcessLaunch.run(process)
    return process
}

/// Waits, sleeping between looks, until `condition` holds or `timeout` passes; returns whether it held.
private func waitUntil(timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// ``waitUntil(timeout:_:)`` for synchronous callers (deinit, atexit, short commands): blocks the calling thread.
private func blockingWait(timeout: Duration, until condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        usleep(2_000)
    }
    return condition()
}

/// Runs blocking work (initdb, copying a cluster) on a Dispatch thread, not on the shared pool's few threads.
private func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// Sends `signal` to the process `pid` (0 only checks that it exists); returns `kill(2)`'s result.
@discardableResult
private func sendSignal(_ signal: Int32, to pid: Int32) -> Int32 {
    kill(pid, signal)
}

/// A TCP port on 127.0.0.1 that is free now (the kernel picks it).
private func freeLoopbackPort() throws -> Int {
    #if os(Linux)
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let descriptor = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard descriptor >= 0 else { throw PostgresServerError("could not open a socket to find a free port") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
        }
    }
    guard bound else { throw PostgresServerError("could not find a free port on 127.0.0.1") }
    return Int(UInt16(bigEndian: address.sin_port))
}
