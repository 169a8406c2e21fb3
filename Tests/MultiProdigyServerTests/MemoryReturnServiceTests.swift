import Testing

@testable import MultiProdigyServer

/// When the gateway gives a burst's freed memory back: only after a burst (many connections at
/// once) and only once most of them have closed, never under steady traffic.
@Suite struct MemoryReturnServiceTests {
    @Test(arguments: [
        (1000, 0, true),  // a burst, all closed
        (1000, 500, true),  // half left
        (1000, 501, false),  // still going
        (64, 0, true),  // the smallest burst
        (63, 0, false),  // not a burst
        (4000, 4000, false),  // steady heavy traffic
        (0, 0, false),  // idle
    ])
    func aBurstIsOverWhenHalfOfItsConnectionsHaveClosed(peak: Int, open: Int, isOver: Bool) {
        #expect(MemoryReturnService.burstIsOver(peak: peak, open: open, burstSize: 64) == isOver)
    }

    @Test func thePeakOfAPeriodStartsTheNextAtTheConnectionsOpenThen() {
        let limiter = ConnectionLimiter { 10 }
        #expect(limiter.admit())
        #expect(limiter.admit())
        #expect(limiter.admit())
        limiter.release()
        #expect(limiter.takePeak() == 3)
        #expect(limiter.takePeak() == 2, "the next period starts at the 2 still open")
        limiter.release()
        limiter.release()
        #expect(limiter.takePeak() == 2)
        #expect(limiter.takePeak() == 0)
    }
}
