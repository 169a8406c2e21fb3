import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyResilience

@Suite struct CircuitBreakerBoardTests {
    let start = ContinuousClock.now
    let settings = BreakerSettings(failureThreshold: 2, cooldown: .seconds(10))

    @Test func targetsNeverSeenAreClosedAvailableAndUnlisted() {
        let board = CircuitBreakerBoard(settings: settings)
        #expect(board.isAvailable("openai/gpt-4o", at: start))
        #expect(board.state(of: "openai/gpt-4o") == .closed(consecutiveFailures: 0))
        #expect(board.availability(of: ["a/x", "b/y"], at: start) == [true, true])
        #expect(board.snapshot().isEmpty, "reading does not list a target")
        #expect(board.permit("openai/gpt-4o", at: start) == .allowed)
        #expect(board.snapshot().map(\.key) == ["openai/gpt-4o"])
    }

    @Test func eachTargetHasItsOwnBreaker() {
        let board = CircuitBreakerBoard(settings: settings)
        board.recordFailure("openai/gpt-4o", at: start)
        board.recordFailure("openai/gpt-4o", at: start)
        board.recordFailure("anthropic/claude", at: start)
        #expect(board.state(of: "openai/gpt-4o") == .open(since: start, until: start + .seconds(10)))
        #expect(board.state(of: "anthropic/claude") == .closed(consecutiveFailures: 1))
        #expect(board.permit("openai/gpt-4o", at: start + .seconds(1)) == .rejected(until: start + .seconds(10)))
        #expect(board.permit("anthropic/claude", at: start + .seconds(1)) == .allowed)
        #expect(board.permit("openai/gpt-4o-mini", at: start + .seconds(1)) == .allowed, "a sibling model is another target")
        #expect(
            board.availability(of: ["anthropic/claude", "openai/gpt-4o", "ollama/llama3.2"], at: start + .seconds(1)) == [
                true, false, true,
            ]
        )
    }

    @Test func probeAbandonAndSuccessGoThroughTheBoard() {
        let board = CircuitBreakerBoard(settings: settings)
        board.recordFailure("p/m", at: start)
        board.recordFailure("p/m", at: start)
        #expect(!board.isAvailable("p/m", at: start + .seconds(9)))
        #expect(board.isAvailable("p/m", at: start + .seconds(10)))
        #expect(board.permit("p/m", at: start + .seconds(10)) == .probe)
        #expect(!board.isAvailable("p/m", at: start + .seconds(10)))
        board.recordAbandoned("p/m")
        #expect(board.permit("p/m", at: start + .seconds(11)) == .probe)
        board.recordSuccess("p/m", at: start + .seconds(12))
        #expect(board.permit("p/m", at: start + .seconds(12)) == .allowed)
    }

    @Test func snapshotIsSortedByKeyWithGauges() {
        let board = CircuitBreakerBoard(settings: settings)
        board.recordSuccess("openai/gpt-4o", at: start)
        for _ in 0..<2 { board.recordFailure("anthropic/claude", at: start) }
        for _ in 0..<2 { board.recordFailure("gemini/flash", at: start) }
        _ = board.permit("gemini/flash", at: start + .seconds(10))
        let snapshot = board.snapshot()
        #expect(snapshot.map(\.key) == ["anthropic/claude", "gemini/flash", "openai/gpt-4o"])
        #expect(snapshot.map(\.gauge) == [2, 1, 0])
        #expect(
            snapshot.map(\.state) == [
                .open(since: start, until: start + .seconds(10)), .halfOpen(probeInFlight: true), .closed(consecutiveFailures: 0),
            ]
        )
    }

    @Test func concurrentCallersGetExactlyOneProbe() async {
        let board = CircuitBreakerBoard(settings: settings)
        board.recordFailure("p/m", at: start)
        board.recordFailure("p/m", at: start)
        let now = start + .seconds(10)
        let permissions = await withTaskGroup(of: CircuitBreakerStateMachine.Permission.self) { group in
            for _ in 0..<64 { group.addTask { board.permit("p/m", at: now) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(permissions.count == 64)
        #expect(permissions.filter { $0 == .probe }.count == 1)
        #expect(permissions.filter { $0 == .rejected(until: nil) }.count == 63)
    }
}
