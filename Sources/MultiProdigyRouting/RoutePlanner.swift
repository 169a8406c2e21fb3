import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import Synchronization

/// Orders the targets of a route for one request: filters, then ranks by policy.
///
/// Filters, in order: provider disabled; cloud target for a private request; a capability the
/// request uses and the model does not declare; a prompt that would not fit the context window;
/// the client's `max_cost_usd` and `max_latency_ms`; a provider that failed its health check, or a
/// target whose circuit breaker is open, while another target is up. The survivors among the route's `targets` are ranked by the policy; the
/// route's `fallback` targets follow in their listed order. Deployments of one upstream model are
/// balanced by in-flight load and `weight` (except under `ordered`, which means as listed), and now and then a target whose latency estimate went
/// stale is tried first so that it is re-measured.
///
/// ```swift
/// let planner = RoutePlanner(resolver: ModelResolver(config: config))
/// let plan = planner.plan(for: "auto", request: RoutingRequest(promptTokens: 812))
/// ```
public final class RoutePlanner: Sendable {
    /// Resolves the client's `model`.
    public let resolver: ModelResolver
    /// What has been measured about each target.
    public let tracker: LatencyTracker
    /// Which targets' circuit breakers let traffic through; nil plans every target as available.
    public let availability: (any TargetAvailability)?
    /// One plan in this many (per planner) re-measures a stale target first.
    public static let explorationPeriod = 20
    /// Completion tokens assumed for cost when the client sets no `max_tokens` and the target has
    /// not answered yet.
    public static let defaultCompletionTokens = 256
    /// The share of the token estimate trusted when excluding a target for its context window: the
    /// estimate can be high, and a target wrongly skipped is worse than one asked and refusing.
    public static let contextEstimateMargin = 0.85
    private let planCount = Atomic<Int>(0)
    /// Mixed with the plan count to seed each plan's tie-breaking.
    private let seed = UInt64.random(in: .min ... .max)

    /// Creates a planner.
    public init(resolver: ModelResolver, tracker: LatencyTracker = LatencyTracker(), availability: (any TargetAvailability)? = nil) {
        self.resolver = resolver
        self.tracker = tracker
        self.availability = availability
    }

    /// The plan for `model`, or nil when `model` names nothing configured.
    ///
    /// - Parameters:
    ///   - model: The client's `model`.
    ///   - request: What the planner needs to know about the request.
    ///   - probes: The latest health check of each probed provider.
    ///   - isExplanation: The plan is only shown (`POST /v1/route`): it neither explores nor uses up
    ///     real traffic's turn to explore.
    /// - Returns: The plan; its ``RoutePlan/error`` is set when no target can serve the request.
    public func plan(
        for model: String,
        request: RoutingRequest,
        probes: [String: ProviderProbe] = [:],
        isExplanation: Bool = false
    ) -> RoutePlan? {
        guard let definition = resolver.definition(for: model) else { return nil }
        let observations = tracker.observations(for: definition.statisticsKeys)
        let routeAverage = tracker.answerLength(route: definition.requestedName)
        let now = ContinuousClock.now
        let available = availability?.availability(of: definition.statisticsKeys, at: now) ?? []
        let count = isExplanation ? 1 : planCount.add(1, ordering: .relaxed).newValue
        var random = SplitMixGenerator(seed: seed ^ UInt64(truncatingIfNeeded: count))
        return Self.plan(
            definition,
            request: request,
            observations: observations,
            routeAnswerTokens: routeAverage,
            probes: probes,
            available: available,
            now: now,
            explores: count % Self.explorationPeriod == 0,
            random: &random
        )
    }

    /// Plans `definition` for `request`: the pure function behind ``plan(for:request:probes:)``.
    ///
    /// - Parameters:
    ///   - definition: The route's candidates and policy.
    ///   - request: What the planner needs to know about the request.
    ///   - observations: What has been measured about each profile, in profile order.
    ///   - routeAnswerTokens: The average answer length of the route (or model), nil when none
    ///     has been observed: what every candidate's cost assumes when the request sets no limit.
    ///   - probes: The latest health check of each probed provider.
    ///   - available: For each profile, whether its circuit breaker lets traffic through (empty: all).
    ///   - now: The current instant, against which estimates age.
    ///   - explores: Whether this plan may put a stale target first to re-measure it.
    ///   - random: Breaks ties between idle deployments of one model by weight.
    public static func plan(
        _ definition: RouteDefinition,
        request: RoutingRequest,
        observations: [TargetObservation],
        routeAnswerTokens: Double? = nil,
        probes: [String: ProviderProbe],
        available: [Bool] = [],
        now: ContinuousClock.Instant,
        explores: Bool,
        random: inout some RandomNumberGenerator
    ) -> RoutePlan {
        let policy = request.policyOverride ?? definition.policy
        // A route with `policy: privacy` stays private whatever policy the client ranks by.
        let privateReason =
            request.privateReason ?? (definition.policy == .privacy ? "route" : nil) ?? (policy == .privacy ? "request" : nil)
        let answerLength = AnswerLengthEstimate.estimate(maxOutputTokens: request.maxOutputTokens, routeAverage: routeAnswerTokens)
        var candidates: [Candidate] = []
        candidates.reserveCapacity(definition.profiles.count)
        var excluded: [ExcludedTarget] = []
        for index in definition.profiles.indices {
            let observation = index < observations.count ? observations[index] : .unobserved
            let candidate = Candidate(
                index: index,
                definition: definition,
                observation: observation,
                request: request,
                answerTokens: answerLength.tokens
            )
            if let exclusion = exclusion(of: candidate, in: definition, request: request, isPrivate: privateReason != nil, probes: probes) {
                excluded.append(exclusion)
            } else {
                candidates.append(candidate)
            }
        }
        // A probe can be stale: leave out providers that failed theirs only while another target is up.
        if !probes.isEmpty, candidates.contains(where: { probes[definition.profiles[$0.index].target.providerName]?.downReason == nil }) {
            candidates.removeAll { candidate in
                let target = definition.profiles[candidate.index].target
                guard let reason = probes[target.providerName]?.downReason else { return false }
                excluded.append(
                    ExcludedTarget(
                        target: target,
                        cause: .unhealthy,
                        reason: "provider '\(target.providerName)' failed its health check (\(reason))"
                    )
                )
                return true
            }
        }
        // An open breaker sends traffic to the other targets; when every one is open, the executor
        // fails fast unless a cooldown has ended and a probe may go.
        if !available.isEmpty, candidates.contains(where: { $0.index < available.count && available[$0.index] }) {
            candidates.removeAll { candidate in
                guard candidate.index < available.count, !available[candidate.index] else { return false }
                excluded.append(
                    ExcludedTarget(
                        target: definition.profiles[candidate.index].target,
                        cause: .breakerOpen,
                        reason: "its circuit breaker is open after repeated failures"
                    )
                )
                return true
            }
        }
        var entries: [PlannedTarget] = []
        let error =
            candidates.isEmpty
            ? RoutingFailure.error(for: definition, request: request, privateReason: privateReason, excluded: excluded) : nil
        if error == nil {
            var primaries = candidates.filter { !$0.isFallback }
            rank(&primaries, policy: policy, weights: definition.weights)
            if explores, policy.measuresLatency { explore(&primaries, now: now) }
            if definition.hasDeployments, policy != .ordered { balanceDeployments(&primaries, policy: policy, random: &random) }
            entries = primaries.map { $0.entry(in: definition) }
            for candidate in candidates where candidate.isFallback {
                var fallback = candidate
                fallback.reason = .fallback
                entries.append(fallback.entry(in: definition))
            }
        }
        return RoutePlan(
            requestedName: definition.requestedName,
            routeName: definition.routeName,
            policy: policy,
            privateReason: privateReason,
            promptTokens: request.promptTokens,
            expectedCompletionTokens: min(request.maxOutputTokens ?? defaultCompletionTokens, 1 << 40) * max(1, request.choiceCount),
            maxCompletionTokens: request.maxOutputTokens.map { min($0, 1 << 40) * max(1, request.choiceCount) },
            answerLength: answerLength,
            entries: entries,
            excluded: excluded,
            timeouts: definition.timeouts,
            splicesContinuations: definition.splicesContinuations,
            error: error
        )
    }

    // MARK: Filters

    private static func exclusion(
        of candidate: Candidate,
        in definition: RouteDefinition,
        request: RoutingRequest,
        isPrivate: Bool,
        probes: [String: ProviderProbe]
    ) -> ExcludedTarget? {
        let profile = definition.profiles[candidate.index]
        let target = profile.target
        if let disabledReason = profile.disabledReason {
            return ExcludedTarget(
                target: target,
                cause: .disabled,
                reason: "provider '\(target.providerName)' is disabled: \(disabledReason)"
            )
        }
        if isPrivate, profile.locality != .local {
            return ExcludedTarget(target: target, cause: .privacy, reason: "cloud target for a private request")
        }
        if let declared = profile.capabilities, !request.requiredCapabilities.isEmpty, !request.requiredCapabilities.isSubset(of: declared)
        {
            let missing = request.requiredCapabilities.subtracting(declared)
            if !missing.isEmpty {
                let names = ModelCapability.allCases.filter(missing.contains).map(\.rawValue).joined(separator: ", ")
                return ExcludedTarget(target: target, cause: .capability, reason: "does not support \(names) (its `supports` lacks it)")
            }
        }
        let trustedPromptTokens = Int(Double(request.promptTokens) * contextEstimateMargin)
        // Compared in Double: max_tokens may be any integer up to Int.max.
        if let window = profile.contextWindow, Double(trustedPromptTokens) + Double(request.maxOutputTokens ?? 0) > Double(window) {
            let output = request.maxOutputTokens.map { " + max_tokens \($0)" } ?? ""
            return ExcludedTarget(
                target: target,
                cause: .context,
                reason: "the prompt (about \(request.promptTokens) tokens)\(output) exceeds its \(window)-token context window"
            )
        }
        if !probes.isEmpty, let limit = probes[target.providerName]?.maxInputTokens, trustedPromptTokens > limit {
            return ExcludedTarget(
                target: target,
                cause: .context,
                reason: "the prompt (about \(request.promptTokens) tokens) exceeds the \(limit)-token input limit it reports"
            )
        }
        if let maxCost = request.maxCostUSD {
            guard let cost = candidate.estimatedCostUSD else {
                return ExcludedTarget(target: target, cause: .limit, reason: "its price is unknown, so max_cost_usd cannot be guaranteed")
            }
            if cost > maxCost {
                return ExcludedTarget(
                    target: target,
                    cause: .limit,
                    reason: "estimated cost $\(CostFormatting.usd(cost)) exceeds max_cost_usd $\(CostFormatting.usd(maxCost))"
                )
            }
        }
        if let maxLatency = request.maxLatency, let predicted = candidate.predictedSeconds, predicted > maxLatency.seconds {
            return ExcludedTarget(
                target: target,
                cause: .limit,
                reason: "predicted latency \(Int(predicted * 1000)) ms exceeds max_latency_ms \(Int(maxLatency.seconds * 1000))"
            )
        }
        return nil
    }

    // MARK: Ranking

    private static func rank(_ candidates: inout [Candidate], policy: RoutingPolicy, weights: BalancedWeights) {
        guard candidates.count > 1 || policy != .ordered else {
            for index in candidates.indices { candidates[index].reason = .listed(position: candidates[index].index + 1) }
            return
        }
        switch policy {
        case .ordered:
            break
        case .cost:
            for index in candidates.indices { candidates[index].score = candidates[index].estimatedCostUSD ?? .infinity }
        case .latency, .privacy:
            for index in candidates.indices { candidates[index].score = candidates[index].predictedSeconds ?? 0 }
        case .balanced:
            let maxCost = candidates.compactMap(\.estimatedCostUSD).max() ?? 0
            let maxLatency = candidates.compactMap(\.predictedSeconds).max() ?? 0
            for index in candidates.indices {
                let cost = candidates[index].estimatedCostUSD.map { maxCost > 0 ? $0 / maxCost : 0 } ?? 1
                let latency = candidates[index].predictedSeconds.map { maxLatency > 0 ? $0 / maxLatency : 0 } ?? 0
                candidates[index].score = weights.cost * cost + weights.latency * latency
            }
        }
        if policy != .ordered {
            candidates.sort { ($0.score, $0.index) < ($1.score, $1.index) }
        }
        for index in candidates.indices {
            candidates[index].reason = reason(for: candidates[index], rank: index, policy: policy)
        }
    }

    private static func reason(for candidate: Candidate, rank: Int, policy: RoutingPolicy) -> PlanReason {
        switch policy {
        case .ordered: .listed(position: candidate.index + 1)
        case .cost: candidate.estimatedCostUSD == nil ? .unknownPrice : .cost(rank: rank + 1)
        case .latency, .privacy: candidate.predictedSeconds == nil ? .unmeasured : .latency(rank: rank + 1)
        case .balanced: .balanced(rank: rank + 1, score: candidate.score)
        }
    }

    /// Moves the target whose latency estimate is oldest (never measured counts as oldest) to the
    /// front, when it is stale, so a recovered or new target gets measured again.
    private static func explore(_ candidates: inout [Candidate], now: ContinuousClock.Instant) {
        guard candidates.count > 1 else { return }
        // Never measured counts as the stalest of all.
        var stalest: (position: Int, age: Duration)?
        for position in candidates.indices.dropFirst() {
            let age = candidates[position].observation.lastObserved.map { now - $0 } ?? .seconds(Int64.max / 2)
            // A target already being measured (in flight) is not sent more exploring requests.
            guard age >= LatencyTracker.staleAfter, age > stalest?.age ?? .zero, candidates[position].observation.inFlight == 0 else {
                continue
            }
            stalest = (position, age)
        }
        guard let stalest else { return }
        var chosen = candidates.remove(at: stalest.position)
        chosen.reason = .exploring(lastMeasuredSecondsAgo: chosen.observation.lastObserved == nil ? nil : Int(stalest.age.seconds))
        candidates.insert(chosen, at: 0)
    }

    /// Deployments of one upstream model that the policy sees as alike take turns at the best place
    /// any of them earned: least in flight per unit of `weight` first, idle ones in weighted-random
    /// order. A deployment that is not alike (dearer, much slower) keeps its own place.
    private static func balanceDeployments(_ candidates: inout [Candidate], policy: RoutingPolicy, random: inout some RandomNumberGenerator)
    {
        guard candidates.count > 1 else { return }
        var grouped = [Bool](repeating: false, count: candidates.count)
        for first in candidates.indices where !grouped[first] && !candidates[first].isExploring {
            let group = candidates[first].deploymentGroup
            var positions = [first]
            for other in candidates.indices where other > first && !grouped[other] {
                guard candidates[other].deploymentGroup == group, !candidates[other].isExploring,
                    isEquivalent(candidates[other], to: candidates[first], policy: policy)
                else { continue }
                positions.append(other)
            }
            guard positions.count > 1 else { continue }
            for position in positions { grouped[position] = true }
            let members = weightedLeastLoadedOrder(positions.map { candidates[$0] }, random: &random)
            for (slot, position) in positions.enumerated() {
                var member = members[slot]
                member.reason = .deployment(inFlight: member.observation.inFlight, weight: member.weight)
                candidates[position] = member
            }
        }
    }

    /// Whether `member` may take turns with `best`, the group's best-ranked deployment: the policy
    /// must see them as alike (cost within 5 %, predicted latency within 2×, balanced score within
    /// 0.1), so balancing never sends traffic to a dearer or much slower deployment first.
    private static func isEquivalent(_ member: Candidate, to best: Candidate, policy: RoutingPolicy) -> Bool {
        switch policy {
        case .ordered:
            return false
        case .cost:
            guard let cost = member.estimatedCostUSD, let bestCost = best.estimatedCostUSD else {
                return member.estimatedCostUSD == nil && best.estimatedCostUSD == nil
            }
            return cost <= bestCost * 1.05 + 1e-12
        case .latency, .privacy:
            guard let predicted = member.predictedSeconds, let bestPredicted = best.predictedSeconds, bestPredicted > 0 else { return true }
            return predicted <= 2 * bestPredicted
        case .balanced:
            return member.score <= best.score + 0.1
        }
    }

    /// Least in flight per unit of weight first; equally loaded members in weighted-random order.
    private static func weightedLeastLoadedOrder(_ members: [Candidate], random: inout some RandomNumberGenerator) -> [Candidate] {
        var remaining = members
        var ordered: [Candidate] = []
        ordered.reserveCapacity(members.count)
        while !remaining.isEmpty {
            let load = { (member: Candidate) in Double(member.observation.inFlight) / member.weight }
            let lightest = remaining.map(load).min() ?? 0
            let tied = remaining.indices.filter { load(remaining[$0]) == lightest }
            let total = tied.reduce(0) { $0 + remaining[$1].weight }
            var draw = Double.random(in: 0..<total, using: &random)
            var pick = tied[tied.count - 1]
            for index in tied {
                draw -= remaining[index].weight
                if draw < 0 {
                    pick = index
                    break
                }
            }
            ordered.append(remaining.remove(at: pick))
        }
        return ordered
    }
}

extension RoutingPolicy {
    /// Whether the policy ranks by predicted latency, and so benefits from re-measuring.
    var measuresLatency: Bool { self == .latency || self == .privacy || self == .balanced }
}
