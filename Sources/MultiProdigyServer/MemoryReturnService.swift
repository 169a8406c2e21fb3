import CMemoryTrim
import Logging
import NIOPosix
import ServiceLifecycle

/// Gives the memory a burst of connections used back to the system once the burst has passed.
///
/// glibc's allocator keeps what a thousand connections freed in its per-thread arenas: the gateway
/// can reuse it, but the system sees the process as large as at the burst's peak (about 60 MB of a
/// 1,000-stream burst stayed resident). Every ``interval``, when the connections open have fallen
/// to half of the period's peak and that peak was at least ``burstSize``, `malloc_trim` returns
/// the free pages (on that tick and the next two), on a thread of SwiftNIO's pool so no event loop waits for it. Steady traffic,
/// whatever its size, never triggers it. Elsewhere than glibc it does nothing (`CMemoryTrim`).
struct MemoryReturnService: Service, CustomStringConvertible {
    /// The client connections, whose count tells a burst from steady traffic.
    let connections: ConnectionLimiter
    /// How often the connection count is checked.
    var interval: Duration = .seconds(2)
    /// The fewest connections at once that count as a burst worth trimming after.
    var burstSize = 64
    /// Where each trim is noted, at debug level.
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            // Ticks left to trim at: a burst's connections close over a second or two, so the
            // trim is repeated on the next ticks to return what the last of them freed.
            var trimsLeft = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                let peak = connections.takePeak()
                let open = connections.openConnections
                if Self.burstIsOver(peak: peak, open: open, burstSize: burstSize) {
                    logger.debug("returning free memory after a burst", metadata: ["peak_connections": "\(peak)", "open": "\(open)"])
                    trimsLeft = Self.trimsPerBurst
                }
                if trimsLeft > 0 {
                    trimsLeft -= 1
                    Self.returnFreeMemory()
                }
            }
        }
    }

    /// Whether a period whose peak was `peak` connections, `open` of which are left, had a burst
    /// that has passed: at least `burstSize` at once, and at most half of them still open.
    static func burstIsOver(peak: Int, open: Int, burstSize: Int) -> Bool {
        peak >= burstSize && open * 2 <= peak
    }

    /// How many ticks in a row a burst's end is trimmed at.
    static let trimsPerBurst = 3

    /// Returns the allocator's free pages to the system, off the event loops.
    static func returnFreeMemory() {
        NIOThreadPool.singleton.submit { _ in _ = multiprodigy_returnFreeMemory() }
    }

    /// The service lifecycle logs services by their description.
    var description: String { "MemoryReturnService" }
}
