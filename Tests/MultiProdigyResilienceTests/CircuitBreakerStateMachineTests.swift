import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyResilience

@Suite struct CircuitBreakerStateMachineTests {
    typealias State = CircuitBreakerStateMachine.State

    /// Where a table row starts; each is reached by driving a fresh breaker through events.
    enum Start: String, CaseIterable, Sendable {
        case closedFresh, closedOneShort, open, halfOpenProbing, halfOpenFree
    }

    /// What happens to the breaker in a table row.
    enum Event: String, CaseIterable, Sendable {
        case permit, success, failure, abandoned
    }

    /// When the event happens, relative to the end of the start state's cooldown.
    enum Timing: String, CaseIterable, Sendable {
        case beforeCooldown, atCooldown, afterCooldown
    }

    static let settings = BreakerSettings(failureThreshold: 3, cooldown: .seconds(10))
    /// The instant the start state's cooldown ends (for `open`: its `until`).
    let reference = ContinuousClock.now

    /// A breaker in `start`. The open one opened at `reference - 10 s`; the half-open ones took
    /// their probe at `reference - 10 s` too, so no event instant precedes the state's making.
    func breaker(in start: Start) -> CircuitBreakerStateMachine {
        var breaker = CircuitBreakerStateMachine(settings: Self.settings)
        let opened = reference - .seconds(10)
        switch start {
        case .closedFresh:
            break
        case .closedOneShort:
            breaker.recordFailure(at: opened)
            breaker.recordFailure(at: opened)
        case .open:
            for _ in 0..<3 { breaker.recordFailure(at: opened) }
        case .halfOpenProbing, .halfOpenFree:
            for _ in 0..<3 { breaker.recordFailure(at: opened - .seconds(10)) }
            _ = breaker.permit(at: opened)
            if start == .halfOpenFree { breaker.recordAbandoned() }
        }
        return breaker
    }

    func instant(_ timing: Timing) -> ContinuousClock.Instant {
        switch timing {
        case .beforeCooldown: reference - .milliseconds(1)
        case .atCooldown: reference
        case .afterCooldown: reference + .seconds(5)
        }
    }

    /// The transition table, written out: the state after `event` at `now`, and what `permit` says.
    func expected(
        _ start: Start,
        _ event: Event,
        _ timing: Timing,
        now: ContinuousClock.Instant
    ) -> (State, CircuitBreakerStateMachine.Permission?) {
        let opened = reference - .seconds(10)
        let reopened = State.open(since: now, until: now + .seconds(10))
        let cooldownOver = timing != .beforeCooldown
        switch (start, event) {
        case (.closedFresh, .permit): return (.closed(consecutiveFailures: 0), .allowed)
        case (.closedFresh, .success): return (.closed(consecutiveFailures: 0), nil)
        case (.closedFresh, .failure): return (.closed(consecutiveFailures: 1), nil)
        case (.closedFresh, .abandoned): return (.closed(consecutiveFailures: 0), nil)

        case (.closedOneShort, .permit): return (.closed(consecutiveFailures: 2), .allowed)
        case (.closedOneShort, .success): return (.closed(consecutiveFailures: 0), nil)
        case (.closedOneShort, .failure): return (reopened, nil)
        case (.closedOneShort, .abandoned): return (.closed(consecutiveFailures: 2), nil)

        case (.open, .permit):
            return cooldownOver
                ? (.halfOpen(probeInFlight: true), .probe)
                : (.open(since: opened, until: reference), .rejected(until: reference))
        case (.open, .success): return (.closed(consecutiveFailures: 0), nil)
        case (.open, .failure): return (.open(since: opened, until: reference), nil)
        case (.open, .abandoned): return (.open(since: opened, until: reference), nil)

        case (.halfOpenProbing, .permit): return (.halfOpen(probeInFlight: true), .rejected(until: nil))
        case (.halfOpenProbing, .success): return (.closed(consecutiveFailures: 0), nil)
        case (.halfOpenProbing, .failure): return (reopened, nil)
        case (.halfOpenProbing, .abandoned): return (.halfOpen(probeInFlight: false), nil)

        case (.halfOpenFree, .permit): return (.halfOpen(probeInFlight: true), .probe)
        case (.halfOpenFree, .success): return (.closed(consecutiveFailures: 0), nil)
        case (.halfOpenFree, .failure): return (reopened, nil)
        case (.halfOpenFree, .abandoned): return (.halfOpen(probeInFlight: false), nil)
        }
    }

    @Test(arguments: Start.allCases, Event.allCases)
    func everyStateAndEventAtEveryTimeFollowsTheTable(start: Start, event: Event) {
        for timing in Timing.allCases {
            var breaker = breaker(in: start)
            let now = instant(timing)
            var permission: CircuitBreakerStateMachine.Permission?
            switch event {
            case .permit: permission = breaker.permit(at: now)
            case .success: breaker.recordSuccess(at: now)
            case .failure: breaker.recordFailure(at: now)
            case .abandoned: breaker.recordAbandoned()
            }
            let (state, expectedPermission) = expected(start, event, timing, now: now)
            #expect(breaker.state == state, "\(start) + \(event) \(timing)")
            #expect(permission == expectedPermission, "\(start) + \(event) \(timing)")
        }
    }

    @Test(arguments: Start.allCases)
    func availabilityFollowsTheStateAndTheCooldownWithoutChangingAnything(start: Start) {
        let expected: [Timing: Bool]
        switch start {
        case .closedFresh, .closedOneShort, .halfOpenFree:
            expected = [.beforeCooldown: true, .atCooldown: true, .afterCooldown: true]
        case .open:
            expected = [.beforeCooldown: false, .atCooldown: true, .afterCooldown: true]
        case .halfOpenProbing:
            expected = [.beforeCooldown: false, .atCooldown: false, .afterCooldown: false]
        }
        let breaker = breaker(in: start)
        for timing in Timing.allCases {
            #expect(breaker.isAvailable(at: instant(timing)) == expected[timing], "\(start) \(timing)")
        }
        #expect(breaker == self.breaker(in: start))
    }

    @Test(arguments: Start.allCases)
    func gaugeAndNameFollowThePrometheusConvention(start: Start) {
        let breaker = breaker(in: start)
        switch start {
        case .closedFresh, .closedOneShort:
            #expect(breaker.gaugeValue == 0)
            #expect(breaker.name == "closed")
        case .halfOpenProbing, .halfOpenFree:
            #expect(breaker.gaugeValue == 1)
            #expect(breaker.name == "half_open")
        case .open:
            #expect(breaker.gaugeValue == 2)
            #expect(breaker.name == "open")
        }
    }

    @Test func thresholdOneOpensOnTheFirstFailure() {
        var breaker = CircuitBreakerStateMachine(settings: BreakerSettings(failureThreshold: 1, cooldown: .seconds(10)))
        breaker.recordFailure(at: reference)
        #expect(breaker.state == .open(since: reference, until: reference + .seconds(10)))
        #expect(breaker.permit(at: reference + .seconds(1)) == .rejected(until: reference + .seconds(10)))
    }

    @Test func thresholdBelowOneCountsAsOne() {
        var breaker = CircuitBreakerStateMachine(settings: BreakerSettings(failureThreshold: 0, cooldown: .seconds(10)))
        #expect(breaker.permit(at: reference) == .allowed)
        breaker.recordFailure(at: reference)
        #expect(breaker.gaugeValue == 2)
    }

    @Test func thresholdThreeOpensOnlyOnTheThirdFailureInARow() {
        var breaker = CircuitBreakerStateMachine(settings: Self.settings)
        breaker.recordFailure(at: reference)
        breaker.recordFailure(at: reference + .seconds(1))
        breaker.recordSuccess(at: reference + .seconds(2))
        breaker.recordFailure(at: reference + .seconds(3))
        breaker.recordFailure(at: reference + .seconds(4))
        #expect(breaker.state == .closed(consecutiveFailures: 2), "a success in between starts the count again")
        breaker.recordFailure(at: reference + .seconds(5))
        #expect(breaker.state == .open(since: reference + .seconds(5), until: reference + .seconds(15)))
    }

    @Test func exactlyOneCallerGetsTheProbeHoweverManyAsk() {
        var breaker = breaker(in: .open)
        var permissions: [CircuitBreakerStateMachine.Permission] = []
        for step in 0..<100 { permissions.append(breaker.permit(at: reference + .milliseconds(step))) }
        #expect(permissions.filter { $0 == .probe }.count == 1)
        #expect(permissions.first == .probe)
        #expect(permissions.dropFirst().allSatisfy { $0 == .rejected(until: nil) })
    }

    @Test func probeSuccessClosesAndTheCountStartsAfresh() {
        var breaker = breaker(in: .open)
        #expect(breaker.permit(at: reference) == .probe)
        breaker.recordSuccess(at: reference + .seconds(1))
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        #expect(breaker.permit(at: reference + .seconds(2)) == .allowed)
        breaker.recordFailure(at: reference + .seconds(3))
        breaker.recordFailure(at: reference + .seconds(4))
        #expect(breaker.gaugeValue == 0, "two failures after closing stay below the threshold of 3")
    }

    @Test func probeFailureReopensWithAFreshCooldownFromTheFailure() {
        var breaker = breaker(in: .open)
        #expect(breaker.permit(at: reference + .seconds(2)) == .probe)
        let failed = reference + .seconds(7)
        breaker.recordFailure(at: failed)
        #expect(breaker.state == .open(since: failed, until: failed + .seconds(10)))
        #expect(breaker.permit(at: failed + .milliseconds(9_999)) == .rejected(until: failed + .seconds(10)))
        #expect(breaker.permit(at: failed + .seconds(10)) == .probe)
    }

    @Test func abandonedProbeFreesTheSlotForTheNextRequest() {
        var breaker = breaker(in: .open)
        #expect(breaker.permit(at: reference) == .probe)
        #expect(breaker.permit(at: reference) == .rejected(until: nil))
        breaker.recordAbandoned()
        #expect(breaker.isAvailable(at: reference))
        #expect(breaker.permit(at: reference + .seconds(1)) == .probe)
        #expect(breaker.permit(at: reference + .seconds(1)) == .rejected(until: nil))
    }

    @Test func stragglerFailuresDoNotExtendAnOpenBreaker() {
        var breaker = breaker(in: .open)
        breaker.recordFailure(at: reference - .seconds(1))
        breaker.recordFailure(at: reference + .seconds(3))
        #expect(breaker.state == .open(since: reference - .seconds(10), until: reference))
        #expect(breaker.permit(at: reference + .seconds(3)) == .probe)
    }

    @Test func flappingPrimaryGetsTrafficBackWithinThirtySecondsOfRecovering() {
        var breaker = CircuitBreakerStateMachine(settings: BreakerSettings())
        let start = reference
        for step in 0..<3 { breaker.recordFailure(at: start + .milliseconds(step)) }
        #expect(breaker.gaugeValue == 2)
        #expect(breaker.permit(at: start + .seconds(5)) == .rejected(until: start + .milliseconds(2) + .seconds(10)))
        // The probe after the first cooldown still finds it down.
        #expect(breaker.permit(at: start + .seconds(10)) == .rejected(until: start + .milliseconds(2) + .seconds(10)))
        #expect(breaker.permit(at: start + .seconds(10) + .milliseconds(2)) == .probe)
        breaker.recordFailure(at: start + .seconds(11))
        // It recovers at +12 s; the next probe, at +21 s, succeeds and traffic flows again.
        let recovered = start + .seconds(12)
        #expect(breaker.permit(at: start + .seconds(20)) == .rejected(until: start + .seconds(21)))
        #expect(breaker.permit(at: start + .seconds(21)) == .probe)
        breaker.recordSuccess(at: start + .seconds(21) + .milliseconds(500))
        #expect(breaker.permit(at: start + .seconds(22)) == .allowed)
        #expect(start + .seconds(22) - recovered <= .seconds(30))
    }

    /// A primary that goes down and up repeatedly, asked once a second: whenever it is served
    /// again, its latest recovery is under 30 s old (with the default 10 s cooldown, about 11 s at
    /// worst). The short up spell at 15–17 s falls between probes, which is what a breaker is for.
    @Test func simulatedFlappingPrimaryIsServedWithinThirtySecondsOfEachLastingRecovery() {
        var breaker = CircuitBreakerStateMachine(settings: BreakerSettings())
        let start = reference
        let downSpells: [Range<Int>] = [0..<15, 17..<40, 41..<43, 70..<95]
        func isDown(_ second: Int) -> Bool { downSpells.contains { $0.contains(second) } }
        var servedBefore = true
        var delays: [Int] = []
        var rejectedWhileClosed = false
        for second in 0..<150 {
            let now = start + .seconds(second)
            switch breaker.permit(at: now) {
            case .allowed, .probe:
                if isDown(second) {
                    breaker.recordFailure(at: now + .milliseconds(200))
                    servedBefore = false
                } else {
                    breaker.recordSuccess(at: now + .milliseconds(200))
                    if !servedBefore, let recovered = downSpells.map(\.upperBound).filter({ $0 <= second }).max() {
                        delays.append(second - recovered)
                    }
                    servedBefore = true
                }
            case .rejected:
                if case .closed = breaker.state { rejectedWhileClosed = true }
                servedBefore = false
            }
        }
        #expect(!rejectedWhileClosed)
        #expect(delays == [3, 10], "served again 3 s after the recovery at 43 s and 10 s after the one at 95 s")
        #expect(delays.allSatisfy { $0 <= 30 })
        #expect(breaker.state == .closed(consecutiveFailures: 0))
    }
}
