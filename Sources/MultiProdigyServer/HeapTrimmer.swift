import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Hands memory that the process freed back to the system, at most once per ``interval``.
///
/// glibc's allocator keeps one arena per thread that allocated, and keeps what is freed inside an
/// arena for reuse. A large structure rebuilt now and then on whichever thread is free (the key
/// directory, read again on every key change) leaves each arena as large as the largest rebuild it
/// saw, so the resident size creeps up with the number of keys ever created. `malloc_trim` returns
/// the free pages of every arena; it takes each arena's lock for a moment, which is why it runs
/// only after such a rebuild and never on the request path. Without glibc it does nothing.
final class HeapTrimmer: Sendable {
    /// The least time between two trims.
    let interval: Duration
    private let lastTrim = Mutex<ContinuousClock.Instant?>(nil)

    /// A trimmer that trims at most once per `interval`.
    init(interval: Duration = .seconds(1)) {
        self.interval = interval
    }

    /// Trims now unless it did less than ``interval`` ago; returns whether it trimmed.
    @discardableResult
    func trim(now: ContinuousClock.Instant = .now) -> Bool {
        let due = lastTrim.withLock { last in
            if let last, now - last < interval { return false }
            last = now
            return true
        }
        guard due else { return false }
        _ = Self.mallocTrim?(0)
        return true
    }

    /// Whether this process's C library can trim (glibc's `malloc_trim` was found).
    static var canTrim: Bool { mallocTrim != nil }

    /// glibc's `malloc_trim`, looked up once (its header is not in Swift's Glibc module); nil elsewhere.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()
}
