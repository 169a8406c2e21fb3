import Testing

@testable import MultiProdigyServer

/// ``HeapTrimmer`` trims at most once per interval, whoever asks.
@Suite struct HeapTrimmerTests {
    @Test func aTrimWithinTheIntervalOfTheLastIsSkipped() {
        let trimmer = HeapTrimmer(interval: .seconds(1))
        let start = ContinuousClock.now
        #expect(trimmer.trim(now: start))
        #expect(!trimmer.trim(now: start))
        #expect(!trimmer.trim(now: start + .milliseconds(999)))
        #expect(trimmer.trim(now: start + .seconds(1)))
        #expect(!trimmer.trim(now: start + .milliseconds(1500)))
        #expect(trimmer.trim(now: start + .seconds(5)))
    }

    #if os(Linux)
    /// The gateway's Linux builds link glibc, whose `malloc_trim` the trimmer finds at run time.
    @Test func glibcsTrimIsFound() {
        #expect(HeapTrimmer.canTrim)
    }
    #endif
}
