import Foundation
import Synchronization

/// Starts child processes one at a time, across every test of the process.
///
/// swift-corelibs-foundation's `Process.run()` has crashed (in a `memcpy` while it builds the
/// child's arguments and environment) when two threads start processes at once; the suite starts
/// gateways, PostgreSQL servers and psql from tests that run in parallel. Starting takes a
/// millisecond or two, so serialising costs nothing measurable.
enum ProcessLaunch {
    private static let lock = Mutex(())

    /// Runs `process`, after any launch under way in another thread.
    static func run(_ process: Process) throws {
        try lock.withLock { _ in try process.run() }
    }
}
