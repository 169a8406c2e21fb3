import Testing

@testable import MultiProdigyRouting

@Suite struct LatencyTrackerTests {
    @Test func firstMeasurementIsTakenAsIsThenSmoothed() {
        let tracker = LatencyTracker()
        let start = ContinuousClock.now
        tracker.record(.total, .milliseconds(100), for: "p/m", at: start)
        #expect(tracker.observation(for: "p/m").totalSeconds == 0.1)
        tracker.record(.total, .milliseconds(200), for: "p/m", at: start + .seconds(1))
        // 0.1 + 0.3 × (0.2 − 0.1)
        #expect(abs((tracker.observation(for: "p/m").totalSeconds ?? 0) - 0.13) < 1e-9)
        #expect(tracker.observation(for: "p/m").firstTokenSeconds == nil)
    }

    @Test func aMeasurementAfterAQuietSpellReplacesMostOfTheEstimate() {
        let tracker = LatencyTracker()
        let start = ContinuousClock.now
        tracker.record(.firstToken, .seconds(2), for: "p/m", at: start)
        tracker.record(.firstToken, .milliseconds(100), for: "p/m", at: start + .seconds(30))
        // 2 + 0.8 × (0.1 − 2)
        #expect(abs((tracker.observation(for: "p/m").firstTokenSeconds ?? 0) - 0.48) < 1e-9)
    }

    @Test func aTenfoldSlowdownOvertakesAFasterRivalAfterOneMeasurement() {
        let tracker = LatencyTracker()
        let start = ContinuousClock.now
        for step in 0..<10 { tracker.record(.total, .milliseconds(20), for: "fast", at: start + .milliseconds(step)) }
        tracker.record(.total, .milliseconds(40), for: "rival", at: start)
        tracker.record(.total, .milliseconds(200), for: "fast", at: start + .milliseconds(20))
        #expect((tracker.observation(for: "fast").totalSeconds ?? 0) > (tracker.observation(for: "rival").totalSeconds ?? 1))
    }

    @Test func inFlightCountsLeasesUntilEndedOrReleased() {
        let tracker = LatencyTracker()
        tracker.begin("k")
        var lease: InFlightLease? = tracker.lease("k")
        #expect(tracker.observation(for: "k").inFlight == 2)
        lease?.end()
        lease?.end()
        #expect(tracker.observation(for: "k").inFlight == 1)
        lease = tracker.lease("k")
        #expect(tracker.observation(for: "k").inFlight == 2)
        lease = nil
        #expect(tracker.observation(for: "k").inFlight == 1)
        tracker.end("k")
        tracker.end("k")
        #expect(tracker.observation(for: "k").inFlight == 0)
    }

    @Test func answerLengthsAreAveragedPerRouteApartFromTargets() {
        let tracker = LatencyTracker()
        tracker.recordAnswerLength(100, route: "auto")
        tracker.recordAnswerLength(200, route: "auto")
        #expect(tracker.answerLength(route: "auto") == 130)
        #expect(tracker.answerLength(route: "other") == nil)
        #expect(tracker.snapshot().isEmpty, "no target appears for a route's answer lengths")
    }

    @Test func predictionPrefersTheMatchingMeasurementThenThePrior() {
        let both = TargetObservation(firstTokenSeconds: 0.2, totalSeconds: 1.5)
        #expect(LatencyModel.predictedSeconds(observation: both, prior: nil, locality: .cloud, isStreaming: true) == 0.2)
        #expect(LatencyModel.predictedSeconds(observation: both, prior: nil, locality: .cloud, isStreaming: false) == 1.5)
        let streamsOnly = TargetObservation(firstTokenSeconds: 0.2)
        #expect(LatencyModel.predictedSeconds(observation: streamsOnly, prior: .seconds(3), locality: .cloud, isStreaming: false) == 3)
        #expect(LatencyModel.predictedSeconds(observation: streamsOnly, prior: nil, locality: .cloud, isStreaming: false) == 0.2)
        #expect(LatencyModel.predictedSeconds(observation: .unobserved, prior: nil, locality: .local, isStreaming: true) == nil)
        // A local server with two requests queued: 0.5 × (1 + 2/2).
        let busy = TargetObservation(totalSeconds: 0.5, inFlight: 2)
        #expect(LatencyModel.predictedSeconds(observation: busy, prior: nil, locality: .local, isStreaming: false) == 1.0)
    }
}
