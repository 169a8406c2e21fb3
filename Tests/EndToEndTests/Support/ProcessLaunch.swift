import Synchronization

/// Starts child processes one at a time, across every test of the process.
///
/// Each start is a `posix_spawn` (``ChildProcess``), not Foundation's `Process.run()`, which
/// crashes now and then on Linux; serialising the starts as well keeps the suite's launches from
/// racing one another's descriptor set-up. A start takes a millisecond or two.
enum ProcessLaunch {
    private static let lock = Mutex(())

    /// Runs `process`, after any launch under way in another thread.
    static func run(_ process: ChildProcess) throws {
        try lock.withLock { _ in try process.run() }
    }
}
