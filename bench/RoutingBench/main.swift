// Measures the routing work a chat request costs before any upstream call: describing the request
// (token estimate, capabilities, PII scan) and planning a 5-target route. Run it with
// `swift run -c release routing-bench`; see bench/README.md.
import Foundation
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyRouting
import NIOCore

let config = try ConfigLoader(environment: [:]).load(
    yaml: """
        providers:
          openai: {type: openai, base_url: "https://api.openai.com/v1", api_key: sk-bench, locality: cloud}
          gemini: {type: openai, base_url: "https://generativelanguage.googleapis.com/v1beta/openai", api_key: g-bench, locality: cloud}
          anthropic: {type: openai, base_url: "https://api.anthropic.com/v1", api_key: a-bench, locality: cloud}
          gpu-a: {type: openai, base_url: "http://127.0.0.1:8001/v1", locality: local}
          gpu-b: {type: openai, base_url: "http://127.0.0.1:8002/v1", locality: local}
        models:
          gpt-4o-mini: {provider: openai, price: {input: 0.15, output: 0.60}, context: 128000, supports: [tools, vision, json]}
          gemini-2.5-flash: {provider: gemini, price: {input: 0.30, output: 2.50}, context: 1048576, supports: [tools, vision, json]}
          claude: {provider: anthropic, price: {input: 3, output: 15}, context: 200000, supports: [tools, vision]}
          llama-a: {provider: gpu-a, model: llama3.1-8b, context: 131072, supports: [tools]}
          llama-b: {provider: gpu-b, model: llama3.1-8b, context: 131072, supports: [tools], weight: 2}
        routes:
          auto: {policy: balanced, targets: [gpt-4o-mini, gemini-2.5-flash, claude, llama-a, llama-b]}
        """,
    source: "bench"
)

let planner = RoutePlanner(resolver: ModelResolver(config: config))
for (index, key) in ["openai/gpt-4o-mini", "gemini/gemini-2.5-flash", "anthropic/claude", "gpu-a/llama3.1-8b", "gpu-b/llama3.1-8b"]
    .enumerated()
{
    planner.tracker.record(.total, .milliseconds(200 + 150 * index), for: key)
}

let prompt = """
    You are a helpful assistant. Summarise the following meeting notes in three bullet points and list any action \
    items with their owners. Notes: the team reviewed the quarterly roadmap, agreed to move the billing migration \
    to the second sprint, and asked the platform group to estimate the cost of the new caching layer before Friday. \
    Maria will draft the customer announcement; Tom owns the load test plan and will share results in the channel.
    """
let body = ByteBuffer(
    string:
        #"{"model":"auto","messages":[{"role":"system","content":"Be concise."},{"role":"user","content":"\#(prompt)"}],"max_tokens":300}"#
)
let chat = try ChatCompletionRequest.parse(body)
let routing = RoutingRequest(chat: chat, overrides: RoutingOverrides(), detectsPII: true)

/// Runs `operation` `iterations` times per round and prints the best round's nanoseconds per call.
func measure(_ label: String, iterations: Int = 200_000, _ operation: () -> Int) {
    var best = Double.infinity
    var sink = 0
    for _ in 0..<7 {
        let start = ContinuousClock.now
        for _ in 0..<iterations { sink &+= operation() }
        let elapsed = ContinuousClock.now - start
        let nanoseconds = (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9) / Double(iterations)
        best = min(best, nanoseconds)
    }
    let padded = label.padding(toLength: 52, withPad: " ", startingAt: 0)
    print("\(padded) \(String(format: "%8.0f", best)) ns/op   (checksum \(sink & 0xff))")
}

print(
    "prompt: \(body.readableBytes) bytes, ~\(routing.promptTokens) tokens; route auto: balanced, 5 targets, 2 of them deployments of one model"
)
measure("describe request (tokens, capabilities, PII scan)") {
    RoutingRequest(chat: chat, overrides: RoutingOverrides(), detectsPII: true).promptTokens
}
let detector = PIIDetector()
var promptText = prompt
let promptBytes = promptText.withUTF8 { Array($0) }
let code = String(repeating: "func total(_ items: [Item]) -> Int { items.reduce(0) { $0 + $1.price * 3 } } // v1.2.3\n", count: 12)
let codeBytes = Array(code.utf8)
measure("  PII scan of the prompt (\(promptBytes.count) bytes of prose)") {
    promptBytes.withUnsafeBytes { detector.firstFinding(in: $0) == nil ? 1 : 0 }
}
measure("  PII scan of \(codeBytes.count) bytes of code") {
    codeBytes.withUnsafeBytes { detector.firstFinding(in: $0) == nil ? 1 : 0 }
}
measure("  token estimate of the request") {
    TokenEstimator.estimatePromptTokens(of: chat)
}
measure("plan a 5-target balanced route") {
    planner.plan(for: "auto", request: routing)?.entries.count ?? 0
}
var costRequest = routing
costRequest.policyOverride = .cost
measure("plan a 5-target cost route") {
    planner.plan(for: "auto", request: costRequest)?.entries.count ?? 0
}
var privateRequest = routing
privateRequest.privateReason = "header"
measure("plan a 5-target route for a private request") {
    planner.plan(for: "auto", request: privateRequest)?.entries.count ?? 0
}
