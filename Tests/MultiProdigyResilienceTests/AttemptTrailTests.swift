import Testing

@testable import MultiProdigyCore
@testable import MultiProdigyResilience
@testable import MultiProdigyRouting

/// ``AttemptTrail``: every attempt of a request in order, how each ended, amended when a started stream is cut.
@Suite struct AttemptTrailTests {
    static let cloud = RouteTarget(name: "gpt", providerName: "openai", upstreamModel: "gpt-4o-mini")
    static let local = RouteTarget(name: "llama:8b", providerName: "ollama", upstreamModel: "llama3:8b")

    @Test func attemptsAreListedInOrderAndTargetsOnce() {
        let trail = AttemptTrail()
        trail.attempted(Self.cloud, outcome: "server")
        trail.attempted(Self.cloud, outcome: "server")
        trail.attempted(Self.local, outcome: "ok")
        #expect(trail.steps == ["gpt:server", "gpt:server", "llama:8b:ok"])
        #expect(trail.targets == [Self.cloud, Self.local])
    }

    @Test func aCutAmendsTheStreamsOkAndADivergenceItsContinuation() {
        let trail = AttemptTrail()
        trail.attempted(Self.cloud, outcome: "ok")
        trail.cut(Self.cloud, kind: .timeout)
        trail.attempted(Self.local, outcome: "ok")
        trail.diverged(Self.local)
        #expect(trail.steps == ["gpt:cut_timeout", "llama:8b:diverged"])
        // Without an `ok` to amend (a stream the trail did not see start), the step is added.
        let other = AttemptTrail()
        other.cut(Self.local, kind: .connection)
        #expect(other.steps == ["llama:8b:cut_connection"])
    }

    @Test func aRefusedPrefillAmendsItsTargetsClientError() {
        let trail = AttemptTrail()
        trail.attempted(Self.cloud, outcome: "ok")
        trail.cut(Self.cloud, kind: .connection)
        trail.attempted(Self.local, outcome: "client")
        trail.prefillRejected(Self.local)
        trail.attempted(Self.local, outcome: "ok")
        #expect(trail.steps == ["gpt:cut_connection", "llama:8b:prefill_rejected", "llama:8b:ok"])
    }

    @Test func aTrailKeepsAtMostItsBoundAndCountsTheRest() {
        let trail = AttemptTrail()
        for _ in 0..<(AttemptTrail.maximumSteps + 5) { trail.attempted(Self.cloud, outcome: "rate_limited") }
        #expect(trail.steps.count == AttemptTrail.maximumSteps + 1)
        #expect(trail.steps.last == "…+5")
    }

    @Test func aTaskStartedUnderATrailNotesItsAttemptsThere() async {
        let trail = AttemptTrail()
        #expect(AttemptTrail.current == nil)
        await AttemptTrail.$current.withValue(trail) {
            await Task { AttemptTrail.current?.attempted(Self.cloud, outcome: "ok") }.value
        }
        #expect(trail.steps == ["gpt:ok"])
    }
}
