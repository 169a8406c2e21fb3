import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

/// The per-request context of the gateway's router.
public struct GatewayRequestContext: RequestContext {
    /// Hummingbird's own per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The id sent back as `x-multiprodigy-request-id` and logged as `request_id`.
    public var requestID: String
    /// Identifies the client connection, so a request can learn when its client goes away.
    let connectionID: ObjectIdentifier?
    /// When the request's head arrived.
    var receivedAt: ContinuousClock.Instant
    /// The attempts of a request to an API endpoint, which the executor notes (see ``AttemptTrail``).
    var trail: AttemptTrail?
    /// Who sent it.
    var caller: RequestCaller
    /// The configuration's runtime this request is served by, from authentication to its last
    /// byte: read once when the request starts, so a reload meanwhile cannot mix two configurations.
    var runtime: GatewayRuntime?
    /// The request's span, when tracing is on and the request is to an LLM endpoint.
    var trace: RequestTrace?

    /// Creates the context for a new request, without a runtime (the middleware takes the current one).
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.connectionID = ObjectIdentifier(source.channel)
        self.receivedAt = .now
        self.caller = .anonymous
        self.runtime = nil
        self.trace = nil
    }

    /// The request's runtime snapshot.
    ///
    /// - Throws: ``GatewayError`` 500 when the request has none, which only a route reached
    ///   without ``GatewayMiddleware`` could see.
    func servingRuntime() throws(GatewayError) -> GatewayRuntime {
        guard let runtime else {
            throw GatewayError(status: .internalServerError, message: "The gateway hit an internal error.", type: "server_error")
        }
        return runtime
    }
}
