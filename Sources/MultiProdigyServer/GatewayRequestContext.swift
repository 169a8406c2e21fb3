import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
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
    /// Who sent it.
    var caller: RequestCaller

    /// Creates the context for a new request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.connectionID = ObjectIdentifier(source.channel)
        self.receivedAt = .now
        self.caller = .anonymous
    }
}
