import Testing

@testable import MultiProdigyResilience

@Suite struct StreamGuardStateMachineTests {
    let start = ContinuousClock.now
    var limits: StreamGuardStateMachine.Limits {
        .init(firstToken: .seconds(10), stall: .seconds(2), totalDeadline: start.advanced(by: .seconds(60)))
    }

    @Test func roleChunkIsHeldBackAndContentCommits() {
        var machine = StreamGuardStateMachine(limits: limits, start: start)
        #expect(machine.chunkReceived(at: start.advanced(by: .seconds(1)), carriesContent: false, finishing: []) == .holdBack)
        #expect(machine.phase == .awaitingContent)
        #expect(machine.chunkReceived(at: start.advanced(by: .seconds(2)), carriesContent: true, finishing: []) == .commit)
        #expect(machine.phase == .committed)
        #expect(machine.chunkReceived(at: start.advanced(by: .seconds(3)), carriesContent: false, finishing: []) == .forward)
    }

    @Test func finishReasonAloneCommitsAnEmptyAnswer() {
        var machine = StreamGuardStateMachine(limits: limits, start: start)
        #expect(machine.chunkReceived(at: start, carriesContent: false, finishing: [0]) == .commit)
        #expect(machine.sourceEnded() == .complete)
    }

    @Test func firstTokenDeadlineAppliesBeforeCommitAndIsNotResetByRoleChunks() {
        var machine = StreamGuardStateMachine(limits: limits, start: start)
        _ = machine.chunkReceived(at: start.advanced(by: .seconds(9)), carriesContent: false, finishing: [])
        #expect(machine.nextDeadline?.kind == .firstToken)
        #expect(machine.nextDeadline?.instant == start.advanced(by: .seconds(10)))
        #expect(machine.expiredLimit(at: start.advanced(by: .milliseconds(9_999))) == nil)
        #expect(machine.expiredLimit(at: start.advanced(by: .seconds(10))) == .firstToken)
    }

    @Test func stallDeadlineFollowsTheLastChunkAfterCommit() {
        var machine = StreamGuardStateMachine(limits: limits, start: start)
        _ = machine.chunkReceived(at: start.advanced(by: .seconds(1)), carriesContent: true, finishing: [])
        _ = machine.chunkReceived(at: start.advanced(by: .seconds(5)), carriesContent: true, finishing: [])
        #expect(machine.nextDeadline?.kind == .stall)
        #expect(machine.nextDeadline?.instant == start.advanced(by: .seconds(7)))
        #expect(machine.expiredLimit(at: start.advanced(by: .seconds(6))) == nil)
        #expect(machine.expiredLimit(at: start.advanced(by: .seconds(7))) == .stall)
    }

    @Test func whileTheRelayWaitsForAClientOnlyTheTotalLimitCountsAndTheStallClockRestartsAfter() {
        var machine = StreamGuardStateMachine(limits: limits, start: start)
        _ = machine.chunkReceived(at: start.advanced(by: .seconds(1)), carriesContent: true, finishing: [])
        machine.waitingForClient()
        #expect(machine.isWaitingForClient)
        #expect(machine.nextDeadline?.kind == .total)
        #expect(machine.expiredLimit(at: start.advanced(by: .seconds(30))) == nil, "a client reading slowly is not a stalled upstream")
        machine.clientCaughtUp(at: start.advanced(by: .seconds(30)))
        #expect(!machine.isWaitingForClient)
        #expect(machine.nextDeadline?.kind == .stall)
        #expect(machine.nextDeadline?.instant == start.advanced(by: .seconds(32)))
        #expect(machine.expiredLimit(at: start.advanced(by: .seconds(32))) == .stall)
    }

    /// The watchdog looks every stall interval while the relay waits: when the client catches up,
    /// the stall deadline comes back earlier than the total one the wait had in force.
    @Test func whileWaitingForAClientTheWatchdogLooksEveryStallInterval() {
        var machine = StreamGuardStateMachine(limits: limits, start: start)
        _ = machine.chunkReceived(at: start, carriesContent: true, finishing: [])
        machine.waitingForClient()
        #expect(machine.nextCheck(after: start.advanced(by: .seconds(10))) == start.advanced(by: .seconds(12)))
        machine.clientCaughtUp(at: start.advanced(by: .seconds(11)))
        #expect(machine.nextCheck(after: start.advanced(by: .seconds(12))) == start.advanced(by: .seconds(13)))
    }

    @Test func theTotalLimitStillEndsAStreamWaitingForItsClient() {
        var machine = StreamGuardStateMachine(limits: limits, start: start)
        _ = machine.chunkReceived(at: start, carriesContent: true, finishing: [])
        machine.waitingForClient()
        #expect(machine.expire(at: start.advanced(by: .seconds(60))) == .total)
        // Catching up after the end changes nothing.
        machine.clientCaughtUp(at: start.advanced(by: .seconds(61)))
        #expect(machine.nextDeadline == nil)
    }

    @Test func totalDeadlineWinsWhenItIsEarlier() {
        let tight = StreamGuardStateMachine.Limits(
            firstToken: .seconds(10),
            stall: .seconds(2),
            totalDeadline: start.advanced(by: .seconds(3))
        )
        var machine = StreamGuardStateMachine(limits: tight, start: start)
        #expect(machine.nextDeadline?.kind == .total)
        _ = machine.chunkReceived(at: start.advanced(by: .seconds(2)), carriesContent: true, finishing: [])
        #expect(machine.nextDeadline?.kind == .total)
        #expect(machine.expiredLimit(at: start.advanced(by: .seconds(3))) == .total)
    }

    @Test func watchdogChecksNoLaterThanOneStallIntervalBeforeCommit() {
        let machine = StreamGuardStateMachine(limits: limits, start: start)
        #expect(machine.nextCheck(after: start) == start.advanced(by: .seconds(2)))
        #expect(machine.nextCheck(after: start.advanced(by: .seconds(9))) == start.advanced(by: .seconds(10)))
    }

    @Test func endingWithoutDoneOrFinishReasonIsTruncated() {
        var machine = StreamGuardStateMachine(limits: limits, start: start)
        _ = machine.chunkReceived(at: start, carriesContent: true, finishing: [])
        #expect(machine.sourceEnded() == .truncated)
        #expect(machine.nextDeadline == nil)
    }

    @Test func everyRequestedChoiceMustFinishForACleanCloseToBeComplete() {
        var cut = StreamGuardStateMachine(limits: limits, start: start, expectedChoices: 2)
        _ = cut.chunkReceived(at: start, carriesContent: true, finishing: [0])
        _ = cut.chunkReceived(at: start, carriesContent: true, finishing: [])
        #expect(cut.sourceEnded() == .truncated, "choice 1 never finished")
        var whole = StreamGuardStateMachine(limits: limits, start: start, expectedChoices: 2)
        _ = whole.chunkReceived(at: start, carriesContent: true, finishing: [1])
        _ = whole.chunkReceived(at: start, carriesContent: false, finishing: [0])
        #expect(whole.sourceEnded() == .complete)
    }

    @Test func doneSentinelCompletesTheStream() {
        var machine = StreamGuardStateMachine(limits: limits, start: start)
        _ = machine.chunkReceived(at: start, carriesContent: true, finishing: [])
        machine.doneReceived()
        #expect(machine.sourceEnded() == .complete)
    }

    @Test func chunksAfterFailureAreIgnored() {
        var machine = StreamGuardStateMachine(limits: limits, start: start)
        machine.failed()
        #expect(machine.chunkReceived(at: start, carriesContent: true, finishing: []) == .ignore)
        #expect(machine.nextDeadline == nil)
    }
}
