import ArgumentParser
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyRouting
import NIOCore

/// `multiprodigy route`: prints the plan a request would get, without calling any backend.
struct ExplainRoute: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Show how a request would be routed: the ordered targets with estimated cost and latency, and why others are excluded.",
        discussion: """
            Plans like POST /v1/route on a fresh gateway: nothing has been measured yet, so latency comes from each model's \
            `latency` prior, and no health check has run. No backend is called.

            Example: multiprodigy route --model auto --prompt "Summarise this contract for jane@example.com"
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "The model or route the client would ask for.")
    var model: String

    @Option(name: .long, help: "The user message.")
    var prompt: String

    @Option(name: .long, help: "Override the route's policy: ordered, cost, latency, privacy or balanced.")
    var policy: String?

    @Flag(name: .customLong("private"), help: "Keep the request on local targets, as the header x-multiprodigy-privacy: local does.")
    var isPrivate = false

    @Option(name: .long, help: "The request's max_tokens.")
    var maxTokens: Int?

    @Flag(name: .long, help: "Plan a streamed request (latency is time to first token).")
    var stream = false

    @Flag(name: .long, help: "Print the JSON that POST /v1/route answers instead of a table.")
    var json = false

    func run() throws {
        let config = try options.load()
        var body: JSONValue = [
            "model": .string(model),
            "messages": [["role": "user", "content": .string(prompt)]],
            "stream": .bool(stream),
        ]
        if let maxTokens { body["max_tokens"] = .integer(maxTokens) }
        let chat: ChatCompletionRequest
        let overrides: RoutingOverrides
        do {
            chat = try ChatCompletionRequest.parse(body.buffer)
            overrides = try RoutingOverrides.parse(
                policyHeader: policy,
                privacyHeader: isPrivate ? "local" : nil,
                extensionField: nil,
                in: UnsafeRawBufferPointer(start: nil, count: 0)
            )
        } catch {
            throw ValidationError(error.message)
        }
        let planner = RoutePlanner(resolver: ModelResolver(config: config))
        let request = RoutingRequest(chat: chat, overrides: overrides, detectsPII: config.privacy.detectPII)
        guard let plan = planner.plan(for: model, request: request, isExplanation: true) else {
            throw ValidationError(planner.resolver.notFoundError(for: model).message)
        }
        print(json ? plan.explanation.text : plan.explanationText)
        if plan.error != nil { throw ExitCode(1) }
    }
}
