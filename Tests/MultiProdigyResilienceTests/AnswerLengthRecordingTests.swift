import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyResilience
@testable import MultiProdigyRouting

/// What a finished answer teaches the planner about its route's answer length: one choice of a
/// target without an `output_factor`, so the planner can scale it again for every target.
@Suite struct AnswerLengthRecordingTests {
    private static func plan(factor: Double) -> (RoutePlan, RouteTarget) {
        let target = RouteTarget(name: "thinker", providerName: "p", upstreamModel: "thinker")
        let entry = PlannedTarget(
            target: target,
            locality: .cloud,
            estimatedCostUSD: 0,
            predictedLatency: nil,
            placement: .listed(position: 1),
            outputFactor: factor
        )
        return (RoutePlan(requestedName: "auto", routeName: "auto", entries: [entry], timeouts: TimeoutSettings()), target)
    }

    @Test func anAnswerIsRecordedPerChoiceAndWithoutItsTargetsFactor() {
        let tracker = LatencyTracker()
        let executor = FailoverExecutor(providers: [:], tracker: tracker)
        let (plan, target) = Self.plan(factor: 4)
        // Two choices of a model that writes four times as much: 4000 tokens are 500 of a plain one.
        executor.recordAnswerLength(4000, by: target, in: plan, choices: 2)
        #expect(tracker.answerLength(route: "auto") == 500)
    }

    @Test func aTargetOutsideThePlanCountsWithoutAFactor() {
        let tracker = LatencyTracker()
        let executor = FailoverExecutor(providers: [:], tracker: tracker)
        let (plan, _) = Self.plan(factor: 4)
        executor.recordAnswerLength(300, by: RouteTarget(name: "other", providerName: "q", upstreamModel: "other"), in: plan, choices: 1)
        #expect(tracker.answerLength(route: "auto") == 300)
    }
}
