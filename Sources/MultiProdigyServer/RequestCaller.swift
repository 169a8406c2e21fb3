import Foundation
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting

/// Who sent a request, as the gateway's key check found, and what that allows.
struct RequestCaller: Sendable {
    /// The name metrics and the ledger record: a virtual key's name, `master`, or `none`.
    var name: String

    /// Creates a caller.
    init(name: String, isMaster: Bool = false, limits: KeyLimiter.Limits? = nil, allowedRoutes: [String]? = nil, forcesLocal: Bool = false)
    {
        self.name = name
        self.isMaster = isMaster
        self.limits = limits
        self.allowedRoutes = allowedRoutes
        self.forcesLocal = forcesLocal
    }
    /// A virtual key's budget and rate limits; nil for the master key and an open gateway.
    var limits: KeyLimiter.Limits?
    /// The routes and models a virtual key may use; nil for all.
    var allowedRoutes: [String]?
    /// Whether a virtual key keeps every request on local targets (`--privacy local`).
    var forcesLocal = false

    /// A request on a gateway without a master key.
    static let anonymous = RequestCaller(name: "none")
    /// A request with the master key.
    static let master = RequestCaller(name: "master", isMaster: true)

    /// Whether the request carries the master key.
    var isMaster = false

    /// A virtual key's id; nil for the master key and an open gateway.
    var keyID: String?

    /// Who owns what the caller stores (a Responses API response), and alone may read or delete
    /// it: a virtual key by its id (a later key of the same name is someone else), else `master` or
    /// `none`.
    var owner: String { keyID.map { "key:" + $0 } ?? name }

    /// The 403 for a model this caller may not use; nil when it may.
    func refusal(forModel model: String) -> GatewayError? {
        guard let allowedRoutes, !allowedRoutes.contains(model) else { return nil }
        return GatewayError(
            status: .forbidden,
            message:
                "The key '\(name)' may not use '\(EchoedName.shortened(model))'. It may use: \(allowedRoutes.joined(separator: ", ")). Ask the gateway's operator to widen the key's --routes.",
            type: "invalid_request_error",
            param: "model",
            code: "model_not_allowed"
        )
    }
}

extension RequestCaller {
    /// The caller holding `key`.
    init(key: VirtualKey) {
        self.init(
            name: key.name,
            limits: KeyLimiter.Limits(
                id: key.id,
                name: key.name,
                requestsPerMinute: key.requestsPerMinute,
                tokensPerMinute: key.tokensPerMinute,
                budget: key.limiterBudget
            ),
            allowedRoutes: key.routes,
            forcesLocal: key.privacy == .local
        )
        self.keyID = key.id
    }
}
