import Synchronization
import Testing

@testable import MultiProdigyServer

/// ``HeapTrimmer`` trims after a rebuild at most once per interval, and a rebuild within the
/// interval is covered by one trim at its end.
@Suite struct HeapTrimmerTests {
    @Test func rebuildsWithinTheIntervalShareOneTrimAtItsEnd() {
        let trimmer = HeapTrimmer(interval: .seconds(1), trim: {})
        let start = ContinuousClock.now
        #expect(trimmer.plan(now: start) == .now)
        #expect(trimmer.plan(now: start + .milliseconds(300)) == .after(.milliseconds(700)))
        #expect(trimmer.plan(now: start + .milliseconds(600)) == .alreadyScheduled)
        #expect(trimmer.plan(now: start + .milliseconds(999)) == .alreadyScheduled)
    }

    @Test func aRebuildAfterTheIntervalTrimsAtOnce() {
        let trimmer = HeapTrimmer(interval: .seconds(1), trim: {})
        let start = ContinuousClock.now
        #expect(trimmer.plan(now: start) == .now)
        #expect(trimmer.plan(now: start + .seconds(1)) == .now)
        #expect(trimmer.plan(now: start + .seconds(5)) == .now)
    }

    /// The scheduled trim runs, once, at the end of the interval; a rebuild after it is planned
    /// from it.
    @Test func theScheduledTrimRunsOnceAtTheEndOfTheInterval() async throws {
        let trims = Mutex(0)
        let trimmer = HeapTrimmer(interval: .milliseconds(200), trim: { trims.withLock { $0 += 1 } })
        trimmer.rebuilt()
        trimmer.rebuilt()
        trimmer.rebuilt()
        #expect(trims.withLock { $0 } == 1, "the first at once, the others wait for the interval's end")
        for _ in 0..<200 where trims.withLock({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(trims.withLock { $0 } == 2)
        try await Task.sleep(for: .milliseconds(300))
        #expect(trims.withLock { $0 } == 2, "one trim covered every rebuild of the interval")
    }
}
