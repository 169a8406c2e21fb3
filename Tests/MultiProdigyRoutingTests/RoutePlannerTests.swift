import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyCore
@testable import MultiProdigyJSON
@testable import MultiProdigyRouting

/// Literal fixtures: three cloud models at different prices, two local ones.
enum PlannerFixture {
    static func profile(
        _ name: String,
        provider: String? = nil,
        model: String? = nil,
        locality: Locality = .cloud,
        price: ModelPrice? = nil,
        context: Int? = nil,
        supports: Set<ModelCapability>? = nil,
        latency: Duration? = nil,
        weight: Double = 1,
        outputFactor: Double = 1,
        fallback: Bool = false,
        disabled: String? = nil
    ) -> TargetProfile {
        TargetProfile(
            target: RouteTarget(name: name, providerName: provider ?? name + "-provider", upstreamModel: model ?? name),
            locality: locality,
            price: price,
            contextWindow: context,
            capabilities: supports,
            latencyPrior: latency,
            weight: weight,
            outputFactor: outputFactor,
            isFallback: fallback,
            disabledReason: disabled
        )
    }

    static let cheap = profile("cheap", price: ModelPrice(input: 0.15, output: 0.60), context: 128_000, supports: [.tools, .vision, .json])
    static let mid = profile("mid", price: ModelPrice(input: 0.30, output: 2.50), context: 1_000_000, supports: [.tools, .vision, .json])
    static let dear = profile("dear", price: ModelPrice(input: 3.00, output: 15.00), context: 200_000, supports: [.tools, .vision])
    static let local = profile("local", locality: .local, context: 8_192, supports: [.tools])
    static let pricedLocal = profile("priced-local", locality: .local, price: ModelPrice(input: 0.01, output: 0.01))
    static let unpriced = profile("unpriced")

    static func definition(
        _ profiles: [TargetProfile],
        policy: RoutingPolicy = .ordered,
        weights: BalancedWeights = .standard
    ) -> RouteDefinition {
        RouteDefinition(
            requestedName: "r",
            routeName: "r",
            policy: policy,
            weights: weights,
            profiles: profiles,
            timeouts: TimeoutSettings()
        )
    }

    static func plan(
        _ definition: RouteDefinition,
        request: RoutingRequest = RoutingRequest(promptTokens: 1000, maxOutputTokens: 500),
        observations: [TargetObservation] = [],
        routeAnswerTokens: Double? = nil,
        probes: [String: ProviderProbe] = [:],
        explores: Bool = false,
        now: ContinuousClock.Instant = .now,
        seed: UInt64 = 1
    ) -> RoutePlan {
        var random = SplitMixGenerator(seed: seed)
        return RoutePlanner.plan(
            definition,
            request: request,
            observations: observations,
            routeAnswerTokens: routeAnswerTokens,
            probes: probes,
            now: now,
            explores: explores,
            random: &random
        )
    }

    static func seconds(_ value: Double, inFlight: Int = 0) -> TargetObservation {
        TargetObservation(firstTokenSeconds: value, totalSeconds: value, inFlight: inFlight, lastObserved: .now)
    }
}

@Suite struct RoutePlannerTests {
    typealias F = PlannerFixture

    struct OrderCase: CustomTestStringConvertible, Sendable {
        let name: String
        let profiles: [TargetProfile]
        let policy: RoutingPolicy
        let observations: [TargetObservation]
        var weights = BalancedWeights.standard
        var request = RoutingRequest(promptTokens: 1000, maxOutputTokens: 500)
        let expected: [String]
        var testDescription: String { name }
    }

    static let orderCases: [OrderCase] = [
        OrderCase(
            name: "ordered keeps the listed order",
            profiles: [F.dear, F.cheap, F.local],
            policy: .ordered,
            observations: [],
            expected: ["dear", "cheap", "local"]
        ),
        OrderCase(
            name: "cost ranks by estimated USD, an unpriced local model costs 0",
            profiles: [F.dear, F.mid, F.cheap, F.local],
            policy: .cost,
            observations: [],
            expected: ["local", "cheap", "mid", "dear"]
        ),
        OrderCase(
            name: "cost counts a price configured on a local model",
            profiles: [F.pricedLocal, F.local, F.cheap],
            policy: .cost,
            observations: [],
            expected: ["local", "priced-local", "cheap"]
        ),
        OrderCase(
            name: "cost puts an unknown cloud price last",
            profiles: [F.unpriced, F.dear, F.cheap],
            policy: .cost,
            observations: [],
            expected: ["cheap", "dear", "unpriced"]
        ),
        OrderCase(
            name: "cost weighs output heavily when max_tokens is large",
            // 1000 in + 50000 out: mid costs 0.0003 + 0.125, dear 0.003 + 0.75; cheap 0.00015 + 0.03.
            profiles: [F.dear, F.mid, F.cheap],
            policy: .cost,
            observations: [],
            request: RoutingRequest(promptTokens: 1000, maxOutputTokens: 50_000),
            expected: ["cheap", "mid", "dear"]
        ),
        OrderCase(
            name: "latency ranks by measured time",
            profiles: [F.cheap, F.mid, F.dear],
            policy: .latency,
            observations: [F.seconds(0.9), F.seconds(0.2), F.seconds(0.5)],
            expected: ["mid", "dear", "cheap"]
        ),
        OrderCase(
            name: "latency inflates a busy target by its in-flight load",
            // cheap: 0.2 × (1 + 32/16) = 0.6 > mid 0.5.
            profiles: [F.cheap, F.mid],
            policy: .latency,
            observations: [F.seconds(0.2, inFlight: 32), F.seconds(0.5)],
            expected: ["mid", "cheap"]
        ),
        OrderCase(
            name: "latency tries an unmeasured target without a prior first",
            profiles: [F.cheap, F.mid],
            policy: .latency,
            observations: [F.seconds(0.2), .unobserved],
            expected: ["mid", "cheap"]
        ),
        OrderCase(
            name: "latency uses the configured prior until measured",
            profiles: [F.profile("slow-prior", latency: .seconds(3)), F.cheap],
            policy: .latency,
            observations: [.unobserved, F.seconds(0.4)],
            expected: ["cheap", "slow-prior"]
        ),
        OrderCase(
            name: "balanced with equal weights trades cost against latency",
            // cheap: cost 0.00045/0.0105 ≈ 0.04, latency 1.0 → 0.52; dear: cost 1, latency 0.1 → 0.55.
            profiles: [F.dear, F.cheap],
            policy: .balanced,
            observations: [F.seconds(0.1), F.seconds(1.0)],
            expected: ["cheap", "dear"]
        ),
        OrderCase(
            name: "balanced leaning on latency prefers the fast dear target",
            profiles: [F.cheap, F.dear],
            policy: .balanced,
            observations: [F.seconds(1.0), F.seconds(0.1)],
            weights: BalancedWeights(cost: 0.2, latency: 0.8),
            expected: ["dear", "cheap"]
        ),
        OrderCase(
            name: "privacy keeps local targets only and ranks them by latency",
            profiles: [F.cheap, F.profile("local-a", locality: .local), F.profile("local-b", locality: .local)],
            policy: .privacy,
            observations: [F.seconds(0.1), F.seconds(0.8), F.seconds(0.3)],
            expected: ["local-b", "local-a"]
        ),
        OrderCase(
            name: "fallback follows the ranked targets in listed order even when cheaper",
            profiles: [
                F.dear, F.mid, F.profile("fb-2", locality: .local, fallback: true), F.profile("fb-1", locality: .local, fallback: true),
            ],
            policy: .cost,
            observations: [],
            expected: ["mid", "dear", "fb-2", "fb-1"]
        ),
        OrderCase(
            name: "a client's policy override replaces the route's",
            profiles: [F.dear, F.cheap],
            policy: .ordered,
            observations: [],
            request: RoutingRequest(promptTokens: 1000, policyOverride: .cost),
            expected: ["cheap", "dear"]
        ),
    ]

    @Test(arguments: orderCases)
    func policyOrdersTargets(_ testCase: OrderCase) {
        let plan = F.plan(
            F.definition(testCase.profiles, policy: testCase.policy, weights: testCase.weights),
            request: testCase.request,
            observations: testCase.observations
        )
        #expect(plan.targets.map(\.name) == testCase.expected)
        #expect(plan.error == nil)
    }

    struct FilterCase: CustomTestStringConvertible, Sendable {
        let name: String
        let profiles: [TargetProfile]
        let request: RoutingRequest
        var probes: [String: ProviderProbe] = [:]
        var observations: [TargetObservation] = []
        let expected: [String]
        let excluded: [String: ExcludedTarget.Cause]
        var testDescription: String { name }
    }

    static let filterCases: [FilterCase] = [
        FilterCase(
            name: "a private request excludes cloud targets, fallback included",
            profiles: [F.cheap, F.local, F.profile("cloud-fb", fallback: true)],
            request: RoutingRequest(promptTokens: 10, privateReason: "pii:email"),
            expected: ["local"],
            excluded: ["cheap": .privacy, "cloud-fb": .privacy]
        ),
        FilterCase(
            name: "tools go only to models that declare them",
            profiles: [F.profile("no-tools", supports: [.json]), F.cheap],
            request: RoutingRequest(promptTokens: 10, requiredCapabilities: [.tools]),
            expected: ["cheap"],
            excluded: ["no-tools": .capability]
        ),
        FilterCase(
            name: "images skip a text-only local model",
            profiles: [F.local, F.cheap],
            request: RoutingRequest(promptTokens: 10, requiredCapabilities: [.vision]),
            expected: ["cheap"],
            excluded: ["local": .capability]
        ),
        FilterCase(
            name: "json_schema skips a model without json",
            profiles: [F.dear, F.mid],
            request: RoutingRequest(promptTokens: 10, requiredCapabilities: [.json]),
            expected: ["mid"],
            excluded: ["dear": .capability]
        ),
        FilterCase(
            name: "a model that declares no capabilities is not filtered",
            profiles: [F.unpriced],
            request: RoutingRequest(promptTokens: 10, requiredCapabilities: [.tools, .vision, .json]),
            expected: ["unpriced"],
            excluded: [:]
        ),
        FilterCase(
            name: "a prompt plus max_tokens over the context window skips the target",
            // 8000 × 0.85 + 2000 = 8800 > 8192.
            profiles: [F.local, F.cheap],
            request: RoutingRequest(promptTokens: 8000, maxOutputTokens: 2000),
            expected: ["cheap"],
            excluded: ["local": .context]
        ),
        FilterCase(
            name: "the context check leaves a margin for the estimate's error",
            // 9000 × 0.85 = 7650 ≤ 8192.
            profiles: [F.local],
            request: RoutingRequest(promptTokens: 9000),
            expected: ["local"],
            excluded: [:]
        ),
        FilterCase(
            name: "an input limit reported by a health probe skips the target",
            profiles: [F.profile("tgi", provider: "tgi", locality: .local), F.cheap],
            request: RoutingRequest(promptTokens: 5000),
            probes: ["tgi": ProviderProbe(isHealthy: true, maxInputTokens: 4000)],
            expected: ["cheap"],
            excluded: ["tgi": .context]
        ),
        FilterCase(
            name: "max_cost_usd excludes dearer targets and unknown prices",
            profiles: [F.dear, F.unpriced, F.cheap],
            request: RoutingRequest(promptTokens: 1000, maxOutputTokens: 1000, maxCostUSD: 0.001),
            expected: ["cheap"],
            excluded: ["dear": .limit, "unpriced": .limit]
        ),
        FilterCase(
            name: "max_latency_ms excludes targets predicted slower, keeps unmeasured ones",
            profiles: [F.cheap, F.mid, F.dear],
            request: RoutingRequest(promptTokens: 10, maxLatency: .milliseconds(500)),
            observations: [F.seconds(0.9), F.seconds(0.3), .unobserved],
            expected: ["mid", "dear"],
            excluded: ["cheap": .limit]
        ),
        FilterCase(
            name: "a disabled provider is excluded",
            profiles: [F.profile("off", disabled: "OPENAI_API_KEY is not set"), F.cheap],
            request: RoutingRequest(promptTokens: 10),
            expected: ["cheap"],
            excluded: ["off": .disabled]
        ),
        FilterCase(
            name: "a provider down by its health check is skipped while another is up",
            profiles: [F.profile("down", provider: "p-down", locality: .local), F.cheap],
            request: RoutingRequest(promptTokens: 10),
            probes: ["p-down": ProviderProbe(isHealthy: false, detail: "connection refused")],
            expected: ["cheap"],
            excluded: ["down": .unhealthy]
        ),
        FilterCase(
            name: "when every provider looks down all are tried, since a probe can be stale",
            profiles: [F.profile("down", provider: "p-down", locality: .local)],
            request: RoutingRequest(promptTokens: 10),
            probes: ["p-down": ProviderProbe(isHealthy: false, detail: "connection refused")],
            expected: ["down"],
            excluded: [:]
        ),
    ]

    @Test(arguments: filterCases)
    func filterExcludesTargets(_ testCase: FilterCase) {
        let plan = F.plan(
            F.definition(testCase.profiles),
            request: testCase.request,
            observations: testCase.observations,
            probes: testCase.probes
        )
        #expect(plan.targets.map(\.name) == testCase.expected)
        #expect(Dictionary(uniqueKeysWithValues: plan.excluded.map { ($0.target.name, $0.cause) }) == testCase.excluded)
    }

    struct ErrorCase: CustomTestStringConvertible, Sendable {
        let name: String
        let profiles: [TargetProfile]
        let request: RoutingRequest
        var policy = RoutingPolicy.ordered
        let status: Int?
        let code: String?
        var testDescription: String { name }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(
            name: "a private request with only cloud targets gets no_private_target",
            profiles: [F.cheap, F.dear],
            request: RoutingRequest(promptTokens: 10, privateReason: "header"),
            status: 503,
            code: "no_private_target"
        ),
        ErrorCase(
            name: "a private request whose local target is disabled gets no_private_target",
            profiles: [F.cheap, F.profile("off", locality: .local, disabled: "no key")],
            request: RoutingRequest(promptTokens: 10, privateReason: "pii:card"),
            status: 503,
            code: "no_private_target"
        ),
        ErrorCase(
            name: "a route with policy privacy and no local target gets no_private_target",
            profiles: [F.cheap],
            request: RoutingRequest(promptTokens: 10),
            policy: .privacy,
            status: 503,
            code: "no_private_target"
        ),
        ErrorCase(
            name: "a private request too long for its local target gets context_length_exceeded",
            profiles: [F.cheap, F.local],
            request: RoutingRequest(promptTokens: 20_000, privateReason: "header"),
            status: 400,
            code: "context_length_exceeded"
        ),
        ErrorCase(
            name: "a prompt too long for every target gets context_length_exceeded",
            profiles: [F.local, F.cheap],
            request: RoutingRequest(promptTokens: 200_000),
            status: 400,
            code: "context_length_exceeded"
        ),
        ErrorCase(
            name: "tools on a route without tool support get unsupported_parameter",
            profiles: [F.profile("plain", supports: [.json])],
            request: RoutingRequest(promptTokens: 10, requiredCapabilities: [.tools]),
            status: 400,
            code: "unsupported_parameter"
        ),
        ErrorCase(
            name: "limits no target meets get no_target_within_limits",
            profiles: [F.dear],
            request: RoutingRequest(promptTokens: 1000, maxCostUSD: 0),
            status: 400,
            code: "no_target_within_limits"
        ),
        ErrorCase(
            name: "only disabled providers leave the error to the executor",
            profiles: [F.profile("off", disabled: "no key")],
            request: RoutingRequest(promptTokens: 10),
            status: nil,
            code: nil
        ),
    ]

    @Test(arguments: errorCases)
    func nothingEligibleExplainsWhy(_ testCase: ErrorCase) {
        let plan = F.plan(F.definition(testCase.profiles, policy: testCase.policy), request: testCase.request)
        #expect(plan.targets.isEmpty)
        #expect(plan.error.map { Int($0.status.code) } == testCase.status)
        #expect(plan.error?.code == testCase.code)
    }

    @Test func aClientCannotRankAPrivacyRouteOutOfPrivacy() {
        let definition = F.definition([F.cheap, F.local], policy: .privacy)
        for override in RoutingPolicy.allCases {
            let plan = F.plan(definition, request: RoutingRequest(promptTokens: 10, policyOverride: override))
            #expect(plan.privateReason == "route")
            #expect(plan.targets.map(\.name) == ["local"], "override \(override)")
        }
    }

    @Test func aHugeMaxTokensIsExcludedNotACrash() {
        let plan = F.plan(F.definition([F.local, F.cheap]), request: RoutingRequest(promptTokens: 10, maxOutputTokens: .max))
        #expect(plan.targets.isEmpty)
        #expect(plan.error?.code == "context_length_exceeded")
    }

    @Test func fixableExclusionsWinOverDisabledProviders() {
        let plan = F.plan(
            F.definition([F.profile("off", disabled: "no key"), F.local]),
            request: RoutingRequest(promptTokens: 50_000)
        )
        #expect(plan.error?.code == "context_length_exceeded")
        let noLocal = F.plan(
            F.definition([F.profile("off", locality: .cloud, disabled: "no key")]),
            request: RoutingRequest(promptTokens: 5, privateReason: "header")
        )
        #expect(noLocal.error?.code == "no_private_target")
        #expect(noLocal.error?.message.contains("'r' has no local target") == true)
    }

    @Test func explorationLeavesATargetAloneWhileItIsInFlight() {
        let now = ContinuousClock.now
        let fresh = TargetObservation(totalSeconds: 0.1, lastObserved: now)
        let staleBusy = TargetObservation(totalSeconds: 2.0, inFlight: 1, lastObserved: now - .seconds(60))
        let plan = F.plan(F.definition([F.cheap, F.mid], policy: .latency), observations: [fresh, staleBusy], explores: true, now: now)
        #expect(plan.targets.map(\.name) == ["cheap", "mid"])
    }

    @Test func costBalancesOnlyDeploymentsOfEqualPrice() {
        let cheapDeployment = F.profile("cheap-dep", provider: "p1", model: "llama", price: ModelPrice(input: 0.1, output: 0.1))
        let dearDeployment = F.profile("dear-dep", provider: "p2", model: "llama", price: ModelPrice(input: 10, output: 10))
        let middle = F.profile("middle", price: ModelPrice(input: 1, output: 1))
        let twin = F.profile("twin-dep", provider: "p3", model: "llama", price: ModelPrice(input: 0.1, output: 0.1))
        var seen = Set<String>()
        for seed in 1...200 {
            let plan = F.plan(F.definition([dearDeployment, middle, cheapDeployment, twin], policy: .cost), seed: UInt64(seed))
            #expect(Array(plan.targets.map(\.name).suffix(2)) == ["middle", "dear-dep"])
            seen.insert(plan.targets[0].name)
        }
        #expect(seen == ["cheap-dep", "twin-dep"])
    }

    @Test func privacyReasonNamesWhatRestrictedTheRequest() {
        #expect(F.plan(F.definition([F.local], policy: .privacy)).privateReason == "route")
        #expect(
            F.plan(F.definition([F.local]), request: RoutingRequest(promptTokens: 1, policyOverride: .privacy)).privateReason == "request"
        )
        #expect(
            F.plan(F.definition([F.local]), request: RoutingRequest(promptTokens: 1, privateReason: "pii:iban")).privateReason == "pii:iban"
        )
        #expect(F.plan(F.definition([F.local], policy: .cost)).privateReason == nil)
    }

    @Test func explorationPutsTheStalestTargetFirst() {
        let now = ContinuousClock.now
        let fresh = TargetObservation(totalSeconds: 0.1, lastObserved: now)
        let stale = TargetObservation(totalSeconds: 2.0, lastObserved: now - .seconds(60))
        let definition = F.definition([F.cheap, F.mid], policy: .latency)
        let exploring = F.plan(definition, observations: [fresh, stale], explores: true, now: now)
        #expect(exploring.targets.map(\.name) == ["mid", "cheap"])
        #expect(exploring.entries[0].reason.contains("re-measuring"))
        #expect(F.plan(definition, observations: [fresh, stale], explores: false, now: now).targets.map(\.name) == ["cheap", "mid"])
        let recent = TargetObservation(totalSeconds: 2.0, lastObserved: now - .seconds(1))
        #expect(F.plan(definition, observations: [fresh, recent], explores: true, now: now).targets.map(\.name) == ["cheap", "mid"])
        // The cost policy does not care about latency, so it never explores.
        #expect(
            F.plan(F.definition([F.cheap, F.mid], policy: .cost), observations: [fresh, stale], explores: true, now: now).targets.first?
                .name == "cheap"
        )
    }

    @Test func deploymentsOfOneModelShareTrafficByWeight() {
        let heavy = F.profile("a", provider: "gpu-a", model: "llama", locality: .local, weight: 3)
        let light = F.profile("b", provider: "gpu-b", model: "llama", locality: .local, weight: 1)
        let definition = F.definition([heavy, light], policy: .cost)
        var firsts: [String: Int] = [:]
        for seed in 1...4000 {
            let plan = F.plan(definition, seed: UInt64(seed))
            firsts[plan.targets[0].name, default: 0] += 1
            #expect(plan.targets.count == 2)
        }
        let share = Double(firsts["a", default: 0]) / 4000
        #expect(share > 0.70 && share < 0.80, "weight 3 of 4 should lead about 75 % of plans, led \(share)")
    }

    @Test func deploymentsOfOneModelGoLeastInFlightFirst() {
        let first = F.profile("a", provider: "gpu-a", model: "llama", locality: .local)
        let second = F.profile("b", provider: "gpu-b", model: "llama", locality: .local)
        let other = F.profile("other", locality: .local)
        // Under the cost policy all three tie at 0.
        let definition = F.definition([first, other, second], policy: .cost)
        for seed in 1...50 {
            let plan = F.plan(
                definition,
                observations: [TargetObservation(inFlight: 3), .unobserved, TargetObservation(inFlight: 1)],
                seed: UInt64(seed)
            )
            // The group keeps the place its best member earned; the other target keeps its own.
            #expect(plan.targets.map(\.name) == ["b", "other", "a"])
        }
    }

    @Test func theOrderedPolicyKeepsDeploymentsAsListed() {
        let first = F.profile("a", provider: "gpu-a", model: "llama", locality: .local)
        let second = F.profile("b", provider: "gpu-b", model: "llama", locality: .local)
        for seed in 1...20 {
            let plan = F.plan(
                F.definition([first, second]),
                observations: [TargetObservation(inFlight: 5), .unobserved],
                seed: UInt64(seed)
            )
            #expect(plan.targets.map(\.name) == ["a", "b"])
        }
    }

    @Test func aMuchSlowerDeploymentKeepsItsOwnPlaceUnderTheLatencyPolicy() {
        let fast = F.profile("fast", provider: "gpu-a", model: "llama", locality: .local)
        let slow = F.profile("slow", provider: "gpu-b", model: "llama", locality: .local)
        let middle = F.profile("middle", locality: .local)
        let definition = F.definition([fast, middle, slow], policy: .latency)
        for seed in 1...50 {
            let plan = F.plan(definition, observations: [F.seconds(0.1), F.seconds(0.15), F.seconds(0.5)], seed: UInt64(seed))
            #expect(plan.targets.map(\.name) == ["fast", "middle", "slow"])
        }
    }

    @Test func estimatesAreReportedPerTarget() {
        let plan = F.plan(
            F.definition([F.cheap, F.local, F.unpriced], policy: .cost),
            request: RoutingRequest(promptTokens: 2000, maxOutputTokens: 1000, choiceCount: 2),
            observations: [F.seconds(0.25), .unobserved, .unobserved]
        )
        let cheap = plan.entries.first { $0.target.name == "cheap" }
        // 2000 × 0.15 + 2 × 1000 × 0.60, per million.
        #expect(abs((cheap?.estimatedCostUSD ?? 0) - 0.0015) < 1e-12)
        #expect(cheap?.predictedLatency == .milliseconds(250))
        #expect(plan.entries.first { $0.target.name == "local" }?.estimatedCostUSD == 0)
        #expect(plan.entries.first { $0.target.name == "unpriced" }?.estimatedCostUSD == nil)
        #expect(plan.entries.first?.reason == "cheapest eligible")
    }

    @Test func withoutMaxTokensCostUsesTheRoutesObservedAnswerLength() {
        let plan = F.plan(F.definition([F.cheap]), request: RoutingRequest(promptTokens: 0), routeAnswerTokens: 1000)
        #expect(abs((plan.entries[0].estimatedCostUSD ?? 0) - 0.0006) < 1e-12)
        #expect(plan.answerLength == AnswerLengthEstimate(tokens: 1000, source: .routeAverage))
        let unseen = F.plan(F.definition([F.cheap]), request: RoutingRequest(promptTokens: 0))
        #expect(abs((unseen.entries[0].estimatedCostUSD ?? 0) - 256 * 0.6 / 1_000_000) < 1e-12)
        #expect(unseen.answerLength == AnswerLengthEstimate(tokens: 256, source: .standard))
        let limited = F.plan(
            F.definition([F.cheap]),
            request: RoutingRequest(promptTokens: 0, maxOutputTokens: 10),
            routeAnswerTokens: 1000
        )
        #expect(limited.answerLength == AnswerLengthEstimate(tokens: 10, source: .maxTokens))
    }

    /// Issue 19's case: a local model priced 0.20/0.80 and a cloud one priced 0.15/0.60 that have
    /// served answers of very different lengths. Whatever each has served, the plan prices both by
    /// the same answer, so the cheaper price ranks first.
    @Test(arguments: [nil, 50.0, 5000.0] as [Double?])
    func targetsWithDifferentHistoriesAreRankedByPrice(routeAverage: Double?) {
        let local = F.profile("local-priced", locality: .local, price: ModelPrice(input: 0.20, output: 0.80))
        let cloud = F.profile("cloud-cheap", price: ModelPrice(input: 0.15, output: 0.60))
        let plan = F.plan(
            F.definition([local, cloud], policy: .cost),
            request: RoutingRequest(promptTokens: 800),
            routeAnswerTokens: routeAverage
        )
        #expect(plan.targets.map(\.name) == ["cloud-cheap", "local-priced"])
    }

    @Test func anOutputFactorScalesOneTargetsExpectedAnswer() {
        // Per million: cheap 0.15/0.60; "thinker" 0.10/0.40 but writes 4× as much.
        let thinker = F.profile("thinker", price: ModelPrice(input: 0.10, output: 0.40), outputFactor: 4)
        // No max_tokens; the route's answers average 1000 tokens.
        let request = RoutingRequest(promptTokens: 100)
        let plan = F.plan(F.definition([thinker, F.cheap], policy: .cost), request: request, routeAnswerTokens: 1000)
        #expect(plan.targets.map(\.name) == ["cheap", "thinker"])
        // 100 × 0.10 + 4 × 1000 × 0.40, per million.
        #expect(abs((plan.entries.first { $0.target.name == "thinker" }?.estimatedCostUSD ?? 0) - 0.00161) < 1e-12)
        let plain = F.plan(
            F.definition([F.profile("thinker", price: ModelPrice(input: 0.10, output: 0.40)), F.cheap], policy: .cost),
            request: request,
            routeAnswerTokens: 1000
        )
        #expect(plain.targets.map(\.name) == ["thinker", "cheap"])
    }

    /// `max_tokens` caps what any target can write: a factor does not price a target past it.
    @Test func anOutputFactorNeverPricesPastMaxTokens() {
        let thinker = F.profile("thinker", price: ModelPrice(input: 0, output: 10), outputFactor: 3)
        let capped = F.plan(F.definition([thinker], policy: .cost), request: RoutingRequest(promptTokens: 0, maxOutputTokens: 1000))
        #expect(abs((capped.entries[0].estimatedCostUSD ?? 0) - 0.01) < 1e-12, "1000 tokens at most, not 3000")
        let averaged = F.plan(F.definition([thinker], policy: .cost), request: RoutingRequest(promptTokens: 0), routeAnswerTokens: 1000)
        #expect(abs((averaged.entries[0].estimatedCostUSD ?? 0) - 0.03) < 1e-12, "without a cap the factor applies")
        #expect(capped.entries[0].outputFactor == 3)
    }

    @Test func summaryLineNamesTheDecision() {
        let plan = F.plan(
            F.definition([F.cheap, F.local, F.mid], policy: .cost),
            request: RoutingRequest(promptTokens: 10, privateReason: "pii:email")
        )
        #expect(plan.summary == "r; policy=cost; private=pii:email; order=local; excluded=2")
    }

    @Test func explanationIsTheDocumentedJSON() {
        let plan = F.plan(
            F.definition([F.cheap, F.local], policy: .cost),
            request: RoutingRequest(promptTokens: 1000, maxOutputTokens: 100, privateReason: "pii:email"),
            observations: [.unobserved, F.seconds(0.14)]
        )
        #expect(
            plan.explanation.text
                == #"{"model":"r","route":"r","policy":"cost","private":true,"private_reason":"pii:email","prompt_tokens":1000,"#
                + #""expected_output_tokens":100,"expected_output_source":"max_tokens","#
                + #""plan":[{"target":"local","provider":"local-provider","locality":"local","estimated_cost_usd":0,"predicted_latency_ms":140,"reason":"cheapest eligible"}],"#
                + #""excluded":[{"target":"cheap","provider":"cheap-provider","cause":"privacy","reason":"cloud target for a private request"}]}"#
        )
    }
}
