import HTTPTypes
import MultiProdigyAccounting
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// Plans a request: reads the client's routing headers and `multiprodigy` field, describes the
/// request for the planner, and turns "nothing configured" and "nothing eligible" into errors.
struct RequestPlanning: Sendable {
    let planner: RoutePlanner
    let health: ProviderHealthBoard
    /// `privacy.detect_pii`.
    let detectsPII: Bool
    /// The APIs besides chat each target's provider speaks itself (``FailoverExecutor/nativeAPIs(of:)``).
    var nativeAPIs: @Sendable (RouteTarget) -> Set<NativeAPI> = { _ in [] }

    /// The plan for a chat completion.
    ///
    /// - Throws: ``GatewayError``: 400 for bad routing headers or fields, 404 for an unknown model,
    ///   and the planner's errors (`no_private_target`, `context_length_exceeded`, ...).
    ///
    /// - Parameter caller: Who sent it: a key restricted to local targets keeps it local.
    ///
    /// - Parameter nativeBody: For a Responses or Messages request, the body a native target would
    ///   get, in which personal data is looked for (see ``RoutingRequest/init(chat:overrides:detectsPII:nativeBody:)``).
    func plan(
        _ chat: ChatCompletionRequest,
        nativeBody: ByteBuffer? = nil,
        headers: HTTPFields,
        caller: RequestCaller = .anonymous
    ) throws(GatewayError) -> RoutePlan {
        try plan(model: chat.model, request: routingRequest(for: chat, nativeBody: nativeBody, headers: headers, caller: caller))
    }

    /// How the planner sees a chat completion: the request itself, its routing headers and its
    /// `multiprodigy` field, and its caller's restrictions.
    ///
    /// - Throws: ``GatewayError`` 400 for bad routing headers or fields.
    func routingRequest(
        for chat: ChatCompletionRequest,
        nativeBody: ByteBuffer? = nil,
        headers: HTTPFields,
        caller: RequestCaller = .anonymous
    ) throws(GatewayError)
        -> RoutingRequest
    {
        let overrides = try overrides(headers: headers, body: chat.body, members: chat.members, caller: caller)
        return RoutingRequest(chat: chat, overrides: overrides, detectsPII: detectsPII, nativeBody: nativeBody)
    }

    /// The plan for an embeddings request: privacy from the client, its key, the route, or
    /// personal data in its inputs; no capabilities.
    func plan(_ embeddings: EmbeddingsRequest, headers: HTTPFields, caller: RequestCaller = .anonymous) throws(GatewayError) -> RoutePlan {
        let members = embeddings.body.withUnsafeReadableBytes { (try? JSONScanner.topLevelMembers(of: $0)) ?? [] }
        let overrides = try overrides(headers: headers, body: embeddings.body, members: members, caller: caller)
        let request = RoutingRequest(embeddings: embeddings, overrides: overrides, detectsPII: detectsPII)
        return try plan(model: embeddings.model, request: request)
    }

    /// The plan for `model` and `request`.
    func plan(model: String, request: RoutingRequest) throws(GatewayError) -> RoutePlan {
        guard let plan = planner.plan(for: model, request: request, probes: health.snapshot()) else {
            throw planner.resolver.notFoundError(for: model)
        }
        if let error = plan.error { throw error }
        return plan
    }

    /// `plan` with only the targets that speak `api` themselves, for a request whose feature
    /// (a built-in or server tool) only such a target can serve; the others are listed as excluded.
    ///
    /// - Throws: `refusal` (a 400 naming the feature) when no target is left.
    func restricting(_ plan: RoutePlan, to api: NativeAPI, refusal: GatewayError) throws(GatewayError) -> RoutePlan {
        var plan = plan
        let (speaking, others) = (
            plan.entries.filter { nativeAPIs($0.target).contains(api) }, plan.entries.filter { !nativeAPIs($0.target).contains(api) }
        )
        guard !speaking.isEmpty else { throw refusal }
        plan.entries = speaking
        plan.excluded += others.map {
            ExcludedTarget(
                target: $0.target,
                cause: .capability,
                reason: "its provider does not serve the \(api.rawValue) API itself, which this request needs"
            )
        }
        return plan
    }

    /// The plan `model` and `request` would get, with its error when no target can serve it, for
    /// showing only.
    ///
    /// - Throws: ``GatewayError`` 404 when `model` names nothing configured.
    func explain(model: String, request: RoutingRequest) throws(GatewayError) -> RoutePlan {
        guard let plan = planner.plan(for: model, request: request, probes: health.snapshot(), isExplanation: true) else {
            throw planner.resolver.notFoundError(for: model)
        }
        return plan
    }

    /// The client's routing headers and `multiprodigy` field, tightened by its key.
    func overrides(
        headers: HTTPFields,
        body: ByteBuffer?,
        members: [JSONMember],
        caller: RequestCaller = .anonymous
    ) throws(GatewayError) -> RoutingOverrides {
        var overrides = try clientOverrides(headers: headers, body: body, members: members)
        if caller.forcesLocal, overrides.privateReason == nil { overrides.privateReason = "key" }
        return overrides
    }

    private func clientOverrides(headers: HTTPFields, body: ByteBuffer?, members: [JSONMember]) throws(GatewayError) -> RoutingOverrides {
        let field = members.last { $0.key == ChatCompletionRequest.extensionField }
        let policy = headers[GatewayHeader.policy]
        let privacy = headers[GatewayHeader.privacy]
        guard let body, field != nil else {
            return try RoutingOverrides.parse(
                policyHeader: policy,
                privacyHeader: privacy,
                extensionField: nil,
                in: UnsafeRawBufferPointer(start: nil, count: 0)
            )
        }
        let result: Result<RoutingOverrides, GatewayError> = body.withUnsafeReadableBytes { bytes in
            Result { () throws(GatewayError) -> RoutingOverrides in
                try RoutingOverrides.parse(policyHeader: policy, privacyHeader: privacy, extensionField: field, in: bytes)
            }
        }
        return try result.get()
    }
}
