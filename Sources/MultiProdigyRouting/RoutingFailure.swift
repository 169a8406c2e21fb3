import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore

/// The error a client gets when the planner excluded every target for a reason the client can act
/// on, or when a private request has no local target.
///
/// When some targets were excluded for a reason the client can fix (context, capability, limits)
/// and the others only because their provider is disabled or down, the client gets the fixable
/// error. Targets excluded only because their provider is disabled or down give no error here: the
/// executor answers 503 `provider_unavailable` naming each one.
enum RoutingFailure {
    package static func error(
        for definition: RouteDefinition,
        request: RoutingRequest,
        privateReason: String?,
        excluded: [ExcludedTarget]
    ) -> GatewayError? {
        let name = definition.requestedName
        let details = excluded.map { "\($0.target.name): \($0.reason)" }.joined(separator: "; ")
        let causes = Set(excluded.map(\.cause)).intersection([.context, .capability, .limit])
        let hasLocalTarget = definition.profiles.contains { $0.locality == .local }
        guard !causes.isEmpty else {
            guard let privateReason else { return nil }
            let why = hasLocalTarget ? "none of its local targets is available" : "'\(name)' has no local target"
            return GatewayError(
                status: .serviceUnavailable,
                message:
                    "This request must stay on local targets (reason: \(privateReason)), and \(why): \(details). "
                    + "Add a target with `locality: local` to the route, start the local provider, or remove the private data.",
                type: "routing_error",
                code: "no_private_target"
            )
        }
        if causes.contains(.context) {
            let output = request.maxOutputTokens.map { " plus max_tokens \($0)" } ?? ""
            return GatewayError(
                status: .badRequest,
                message:
                    "The prompt (about \(request.promptTokens) tokens)\(output) does not fit any target of '\(name)': \(details). "
                    + "Shorten the messages, lower max_tokens, or choose a model with a larger context window.",
                type: "invalid_request_error",
                param: "messages",
                code: "context_length_exceeded"
            )
        }
        if causes.contains(.capability) {
            let needed = ModelCapability.allCases.filter(request.requiredCapabilities.contains)
            let param = needed.first.map { capability -> String in
                switch capability {
                case .tools: "tools"
                case .vision: "messages"
                case .json: "response_format"
                // A request never needs it (see `isRequestable`); named for completeness.
                case .continuation: "messages"
                }
            }
            return GatewayError(
                status: .badRequest,
                message:
                    "No target of '\(name)' supports what this request uses (\(needed.map(\.rawValue).joined(separator: ", "))): \(details). "
                    + "Choose a model whose `supports` lists it, or drop the feature from the request.",
                type: "invalid_request_error",
                param: param,
                code: "unsupported_parameter"
            )
        }
        return GatewayError(
            status: .badRequest,
            message: "No target of '\(name)' is within this request's limits: \(details). Raise max_cost_usd or max_latency_ms.",
            type: "invalid_request_error",
            param: "multiprodigy",
            code: "no_target_within_limits"
        )
    }
}
