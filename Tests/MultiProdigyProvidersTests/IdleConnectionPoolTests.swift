import NIOCore
import Testing

@testable import MultiProdigyProviders

/// The idle pool's decisions with literal times: what is reused, kept, refused and swept, and when
/// the next sweep is due.
@Suite struct IdleConnectionPoolTests {
    /// `t` milliseconds after an arbitrary origin.
    private static func at(_ milliseconds: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(1_000_000_000 + milliseconds * 1_000_000)) }

    private static func pool(maximumPerKey: Int = 4) -> IdleConnectionPool<String, Int> {
        IdleConnectionPool(idleTimeout: .milliseconds(1000), maximumPerKey: maximumPerKey)
    }

    @Test func theFirstCheckinSchedulesASweepOneIdleTimeoutLaterAndTheNextOnesDoNot() {
        var pool = Self.pool()
        #expect(pool.checkin(1, key: "u", at: Self.at(0)) == .keep(sweepAt: Self.at(1000)))
        #expect(pool.checkin(2, key: "u", at: Self.at(10)) == .keep(sweepAt: nil))
        #expect(pool.checkin(3, key: "v", at: Self.at(20)) == .keep(sweepAt: nil))
        #expect(pool.isSweepScheduled)
    }

    @Test func checkoutTakesTheNewestPreferredConnectionOfItsKey() {
        var pool = Self.pool()
        for (connection, time) in [(1, 0), (2, 1), (3, 2)] { _ = pool.checkin(connection, key: "u", at: Self.at(Int64(time))) }
        _ = pool.checkin(9, key: "v", at: Self.at(3))
        #expect(pool.checkout(key: "u") { $0 % 2 == 1 } == 3)
        #expect(pool.checkout(key: "u") { $0 % 2 == 1 } == 1)
        #expect(pool.checkout(key: "u") { $0 % 2 == 1 } == nil, "2 is left, but not preferred")
        #expect(pool.checkout(key: "u") { _ in true } == 2)
        #expect(pool.checkout(key: "w") { _ in true } == nil)
        #expect(pool.checkout(key: "v") { _ in true } == 9)
    }

    @Test func aFullKeyRefusesMoreWhileOtherKeysStillTakeThem() {
        var pool = Self.pool(maximumPerKey: 2)
        _ = pool.checkin(1, key: "u", at: Self.at(0))
        _ = pool.checkin(2, key: "u", at: Self.at(0))
        #expect(pool.checkin(3, key: "u", at: Self.at(0)) == .close)
        #expect(pool.checkin(4, key: "v", at: Self.at(0)) == .keep(sweepAt: nil))
    }

    @Test func aSweepClosesWhatWaitedAnIdleTimeoutAndIsDueWhenTheOldestOfTheRestExpires() {
        var pool = Self.pool()
        _ = pool.checkin(1, key: "u", at: Self.at(0))
        _ = pool.checkin(2, key: "v", at: Self.at(100))
        _ = pool.checkin(3, key: "u", at: Self.at(600))
        let first = pool.sweep(at: Self.at(1000))
        #expect(first.expired == [1])
        // 2 expires at 1100, but sweeps are a quarter of the idle timeout apart at least.
        #expect(first.nextSweep == Self.at(1250))
        let second = pool.sweep(at: Self.at(1250))
        #expect(second.expired == [2])
        // 3 expires at 1600, later than the quarter-timeout minimum.
        #expect(second.nextSweep == Self.at(1600))
        #expect(pool.checkout(key: "v") { _ in true } == nil)
        let third = pool.sweep(at: Self.at(1600))
        #expect(third.expired == [3])
        #expect(third.nextSweep == nil)
        #expect(!pool.isSweepScheduled)
        #expect(pool.entries.isEmpty)
        // The next connection to go idle schedules a sweep again.
        #expect(pool.checkin(4, key: "u", at: Self.at(2000)) == .keep(sweepAt: Self.at(3000)))
    }

    @Test func sweepsAreAtLeastAQuarterOfTheIdleTimeoutApart() {
        var pool = Self.pool()
        _ = pool.checkin(1, key: "u", at: Self.at(0))
        _ = pool.checkin(2, key: "u", at: Self.at(10))
        let sweep = pool.sweep(at: Self.at(1000))
        #expect(sweep.expired == [1])
        #expect(sweep.nextSweep == Self.at(1250), "not 1010")
    }

    @Test func aConnectionReusedBeforeTheSweepIsNotClosed() {
        var pool = Self.pool()
        _ = pool.checkin(1, key: "u", at: Self.at(0))
        #expect(pool.checkout(key: "u") { _ in true } == 1)
        // Back after its call: it is idle from then on.
        _ = pool.checkin(1, key: "u", at: Self.at(900))
        let sweep = pool.sweep(at: Self.at(1000))
        #expect(sweep.expired.isEmpty)
        #expect(sweep.nextSweep == Self.at(1900))
    }

    @Test func shutdownReturnsEveryIdleConnectionAndRefusesLaterOnes() {
        var pool = Self.pool()
        _ = pool.checkin(1, key: "u", at: Self.at(0))
        _ = pool.checkin(2, key: "v", at: Self.at(0))
        #expect(pool.shutdown().sorted() == [1, 2])
        #expect(pool.checkin(3, key: "u", at: Self.at(10)) == .close)
        let sweep = pool.sweep(at: Self.at(1000))
        #expect(sweep.expired.isEmpty && sweep.nextSweep == nil)
        #expect(!pool.isSweepScheduled)
    }
}
