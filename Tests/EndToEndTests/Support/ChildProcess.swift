import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn`, with the members of Foundation's `Process` that the
/// tests use.
///
/// swift-corelibs-foundation's `Process.run()` crashes now and then on Linux (a 256-byte over-read
/// of a `dirent` while it lists `/proc/self/fd`, swift-corelibs-foundation PR #5472, not in the 6.3
/// toolchain), the more often the more files the test process has open; the suite starts gateways,
/// PostgreSQL servers and psql while hundreds of sockets are open. This starts them without it: the
/// child gets the three standard streams, its working directory and its environment, and no other
/// descriptor of the test process.
final class ChildProcess: @unchecked Sendable {
    /// How a child ended, as Foundation's `Process` names it.
    typealias TerminationReason = Process.TerminationReason

    var executableURL: URL?
    var arguments: [String] = []
    /// The child's environment; the test process's own when nil.
    var environment: [String: String]?
    var currentDirectoryURL: URL?
    var standardInput: FileHandle?
    var standardOutput: FileHandle?
    var standardError: FileHandle?

    private struct State {
        var pid: pid_t = 0
        var status: Int32?
    }

    private let state = Mutex(State())

    /// Starts the child.
    func run() throws {
        guard let executable = executableURL?.path else { throw ChildProcessError("no executable") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        for (handle, target) in [(standardInput, Int32(0)), (standardOutput, 1), (standardError, 2)] {
            posix_spawn_file_actions_adddup2(&actions, handle?.fileDescriptor ?? null, target)
        }
        if let directory = currentDirectoryURL?.path {
            guard let addChdir = Self.addChdir else { throw ChildProcessError("posix_spawn cannot change directory here") }
            _ = directory.withCString { addChdir(&actions, $0) }
        }
        // Nothing else of this process (its sockets, its files) reaches the child.
        if let addCloseFrom = Self.addCloseFrom { _ = addCloseFrom(&actions, 3) }
        let environment = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw ChildProcessError("posix_spawn \(executable): \(String(cString: strerror(result)))") }
        state.withLock { $0.pid = pid }
    }

    /// The child's process id (0 before ``run()``).
    var processIdentifier: Int32 { state.withLock { $0.pid } }

    /// Whether the child has not ended yet (reaps it when it has).
    var isRunning: Bool {
        state.withLock { state in
            guard state.pid > 0, state.status == nil else { return false }
            var status: Int32 = 0
            if waitpid(state.pid, &status, WNOHANG) == state.pid { state.status = status }
            return state.status == nil
        }
    }

    /// Blocks until the child ends.
    func waitUntilExit() {
        let pid = state.withLock { $0.status == nil ? $0.pid : 0 }
        guard pid > 0 else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        state.withLock { if $0.status == nil { $0.status = status } }
    }

    /// Sends SIGTERM.
    func terminate() {
        let pid = processIdentifier
        if pid > 0, isRunning { kill(pid, SIGTERM) }
    }

    /// The exit status, or the signal that ended the child.
    var terminationStatus: Int32 {
        guard let status = state.withLock({ $0.status }) else { return 0 }
        return Self.exited(status) ? (status >> 8) & 0xFF : status & 0x7F
    }

    /// Whether the child exited or was ended by a signal.
    var terminationReason: TerminationReason {
        guard let status = state.withLock({ $0.status }) else { return .exit }
        return Self.exited(status) ? .exit : .uncaughtSignal
    }

    private static func exited(_ status: Int32) -> Bool { status & 0x7F == 0 }

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29), which Swift's Glibc module does not declare.
    private static let addChdir: AddChdir? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChdir.self) }
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34).
    private static let addCloseFrom: AddCloseFrom? = dlsym(
        UnsafeMutableRawPointer(bitPattern: 0),
        "posix_spawn_file_actions_addclosefrom_np"
    )
    .map { unsafeBitCast($0, to: AddCloseFrom.self) }
}

/// A child process could not be started.
struct ChildProcessError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { "ChildProcess: \(message)" }
}
