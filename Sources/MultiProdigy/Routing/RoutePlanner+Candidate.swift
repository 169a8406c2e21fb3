extension RoutePlanner {
    /// A target being planned: its profile, what is known about it, and its estimates for one
    /// request.
    struct Candidate {
        /// Its place in the route's list, which breaks ties.
        let index: Int
        let profile: TargetProfile
        let observation: TargetObservation
        /// Estimated USD for the request; nil when the price is unknown.
        let estimatedCostUSD: Double?
        /// Predicted latency in seconds, inflated by in-flight load; nil when nothing is known.
        let predictedSeconds: Double?
        /// The policy's score: lower ranks first.
        var score = 0.0
        var reason = ""

        init(index: Int, profile: TargetProfile, observation: TargetObservation, request: RoutingRequest) {
            self.index = index
            self.profile = profile
            self.observation = observation
            self.estimatedCostUSD = profile.effectivePrice.map { price in
                let output =
                    request.maxOutputTokens.map(Double.init) ?? observation.completionTokens ?? Double(RoutePlanner.defaultCompletionTokens)
                return CostModel.usd(
                    promptTokens: Double(request.promptTokens),
                    completionTokens: output * Double(request.choiceCount),
                    price: price
                )
            }
            self.predictedSeconds = LatencyModel.predictedSeconds(
                observation: observation,
                prior: profile.latencyPrior,
                locality: profile.locality,
                isStreaming: request.isStreaming
            )
        }

        func entry() -> PlannedTarget {
            PlannedTarget(
                target: profile.target,
                locality: profile.locality,
                estimatedCostUSD: estimatedCostUSD,
                predictedLatency: predictedSeconds.map { .microseconds(Int64(($0 * 1_000_000).rounded())) },
                reason: reason
            )
        }
    }
}
