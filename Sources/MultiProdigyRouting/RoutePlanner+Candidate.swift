import MultiProdigyConfig
import MultiProdigyPrivacy

extension RoutePlanner {
    /// A target being planned: where its profile sits, what is known about it, and its estimates
    /// for one request.
    ///
    /// Plain values only, so ranking moves candidates around without reference counting; the
    /// profile itself is read from the definition by ``index``.
    struct Candidate {
        /// Its place in the route's list, which breaks ties and finds its profile.
        let index: Int
        /// The first profile of the route serving the same upstream model: deployments share it.
        let deploymentGroup: Int
        let isFallback: Bool
        let weight: Double
        let observation: TargetObservation
        /// Estimated USD for the request; nil when the price is unknown.
        let estimatedCostUSD: Double?
        /// Predicted latency in seconds, inflated by in-flight load; nil when nothing is known.
        let predictedSeconds: Double?
        /// The policy's score: lower ranks first.
        var score = 0.0
        var reason = PlanReason.unranked

        /// - Parameter answerTokens: The plan's expected answer length per choice, the same for every
        ///   candidate; the profile's `output_factor` scales it.
        init(index: Int, definition: RouteDefinition, observation: TargetObservation, request: RoutingRequest, answerTokens: Int) {
            let profile = definition.profiles[index]
            self.index = index
            self.deploymentGroup = definition.deploymentGroups[index]
            self.isFallback = profile.isFallback
            self.weight = profile.weight
            self.observation = observation
            self.estimatedCostUSD = profile.effectivePrice.map { price in
                var output = Double(answerTokens) * profile.outputFactor
                // `max_tokens` caps what any target can write, whatever its factor.
                if let cap = request.maxOutputTokens { output = min(output, Double(cap)) }
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

        var isExploring: Bool {
            if case .exploring = reason { return true }
            return false
        }

        func entry(in definition: RouteDefinition) -> PlannedTarget {
            let profile = definition.profiles[index]
            return PlannedTarget(
                target: profile.target,
                locality: profile.locality,
                estimatedCostUSD: estimatedCostUSD,
                predictedLatency: predictedSeconds.map { .microseconds(Int64(($0 * 1_000_000).rounded())) },
                placement: reason,
                contextWindow: profile.contextWindow,
                outputFactor: profile.outputFactor,
                nonStreaming: profile.nonStreaming
            )
        }
    }
}
