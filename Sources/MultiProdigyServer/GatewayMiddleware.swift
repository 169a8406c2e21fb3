import HTTPTypes
import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import NIOCore
import Tracing

/// Gives every request an id, checks its key (the master key or a virtual key), and turns every
/// error into its API's envelope (``ErrorEnvelope``: Anthropic's on `/v1/messages`, else OpenAI's).
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    /// The running configuration's runtime. A request takes it once (unless its context already
    /// holds one) and keeps it in its context to the last byte: the master key and keys it is
    /// authenticated with, the handler that serves it, and the accounting of requests that end in an
    /// error before a handler could account for them all come from one configuration.
    let runtime: @Sendable () -> GatewayRuntime

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = RequestIdentifier.next()
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        let runtime = context.runtime ?? runtime()
        context.runtime = runtime
        var response: Response
        // The router ignores empty path segments (`//admin/keys` reaches `/admin/keys`), so the
        // check looks at the path as the router will; and everything but the public probes is guarded.
        let path = Self.routedPath(request.uri.path)
        let isGuarded = !Self.publicPaths.contains(path) && !Self.isDashboard(path)
        let envelope = ErrorEnvelope.of(path: path)
        // The LLM endpoint the request is to, if it is to one: such requests are counted, traced and trailed.
        let accountedEndpoint = Self.accountedEndpoints[path]
        // A request that ends before reaching its handler's accounting: no route, no target.
        let unrouted = { (context: Context, endpoint: String, status: HTTPResponse.Status) in
            RequestMeter(context).outcome(endpoint: endpoint, route: nil, target: nil, status: status.code, attempts: 0)
        }
        if isGuarded, let refusal = Self.authenticate(request, path: path, runtime: runtime, caller: &context.caller) {
            response = refusal.response(envelope: envelope)
            if let endpoint = accountedEndpoint {
                // Counted, but not in the ledger: a request without a valid key belongs to no one.
                let outcome = unrouted(context, endpoint, response.status)
                runtime.accounting.metrics.record(outcome)
                runtime.accounting.accessLog?.writeRefusal(outcome)
            }
        } else {
            // A request to an LLM endpoint is traced when tracing is on: its handler runs under its span.
            if let tracer = runtime.tracer, let endpoint = accountedEndpoint {
                context.trace = RequestTrace(
                    tracer: tracer,
                    request: request.head,
                    operation: endpoint == EmbeddingsHandler.endpoint ? "embeddings" : "chat",
                    providerTypes: runtime.providerTypes
                )
            }
            // Handlers account for the answers they return; a thrown error ends a request before that.
            var threw = true
            do {
                // An LLM request keeps the trail of its attempts, and runs under its span when traced.
                if accountedEndpoint != nil {
                    let trail = AttemptTrail()
                    context.trail = trail
                    let traced = context
                    response = try await AttemptTrail.$current.withValue(trail) {
                        if let trace = traced.trace {
                            return try await ServiceContext.$current.withValue(trace.context) { try await next(request, traced) }
                        }
                        return try await next(request, traced)
                    }
                } else {
                    response = try await next(request, context)
                }
                threw = false
            } catch let error as GatewayError {
                response = error.response(envelope: envelope)
            } catch let error as HTTPError {
                response = Self.envelope(for: error, request: request).response(headers: error.headers, envelope: envelope)
            } catch is NIOTooManyBytesError {
                response = GatewayError(
                    status: .contentTooLarge,
                    message: "The request body is too large.",
                    type: "invalid_request_error",
                    code: "request_too_large"
                )
                .response(envelope: envelope)
            } catch {
                context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
                response = GatewayError(
                    status: .internalServerError,
                    message: "The gateway hit an internal error; the request id is \(requestID).",
                    type: "server_error"
                )
                .response(envelope: envelope)
            }
            if threw, let endpoint = accountedEndpoint {
                // The handler stopped before it could account for the request (a bad body, an
                // unknown model, a limit): it still counts.
                runtime.accounting.finish(unrouted(context, endpoint, response.status), of: RequestMeter(context))
            }
            context.trace?.endUnlessBodyEnds()
        }
        // Only the middleware sets this header, so it is appended without looking for it first.
        response.headers.append(HTTPField(name: GatewayHeader.requestID, value: requestID))
        if let name = envelope.requestIDHeader { response.headers.append(HTTPField(name: name, value: requestID)) }
        return response
    }

    /// Whether a request with `head` will be refused for its key whatever its body: the gateway has
    /// a master key, the path is guarded, and the request presents neither that key nor a valid
    /// virtual key. The connection asks before it reads a body, so that a client without a key
    /// cannot make the gateway buffer one; ``handle(_:context:next:)`` then answers the refusal.
    ///
    /// The check reads the current runtime at the head, just before the request's own snapshot is
    /// taken; a reload between the two can only make ``handle(_:context:next:)`` decide again under
    /// the newer configuration, as it does for every request.
    func refusesBeforeBody(_ head: HTTPRequest) -> Bool {
        let runtime = runtime()
        // An open gateway refuses no body for want of a key; of its paths only the dashboard's (which it
        // does not serve) refuse bodies. That is known from the raw path, before any parsing.
        guard runtime.masterKey != nil || Self.mayBeDashboard(rawPath: head.path ?? "") else { return false }
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
        let path = Self.routedPath(request.uri.path)
        if Self.isDashboard(path) { return runtime.dashboard.refusesBody(of: request, path: path) }
        guard runtime.masterKey != nil, !Self.publicPaths.contains(path) else { return false }
        var caller = RequestCaller.anonymous
        return Self.authenticate(request, path: path, runtime: runtime, caller: &caller) != nil
    }

    /// Paths anyone may call, whatever the keys.
    private static let publicPaths: Set<String> = ["/health", "/ready", "/metrics"]

    /// Whether `path` is the dashboard's: its pages log in with a session cookie (``DashboardHandler``), not a key.
    static func isDashboard(_ path: String) -> Bool {
        path == "/ui" || path.hasPrefix("/ui/")
    }

    /// Whether a raw request target may route to the dashboard: it holds `/ui`, or starts with `ui` (a
    /// target without its leading slash routes as if it had one). A byte scan, no parsing.
    static func mayBeDashboard(rawPath: String) -> Bool {
        var matched = 1
        for byte in rawPath.utf8 {
            switch (matched, byte) {
            case (_, UInt8(ascii: "/")): matched = 1
            case (1, UInt8(ascii: "u")): matched = 2
            case (2, UInt8(ascii: "i")): return true
            default: matched = 0
            }
        }
        return false
    }

    /// `path` as the router matches it: without empty segments, so `//v1//models` is `/v1/models`.
    static func routedPath(_ path: String) -> String {
        // A byte scan: `String.contains` goes through Foundation's slow locale-aware search.
        var previousWasSlash = false
        var needsCleaning = false
        for byte in path.utf8 {
            let isSlash = byte == UInt8(ascii: "/")
            if isSlash, previousWasSlash {
                needsCleaning = true
                break
            }
            previousWasSlash = isSlash
        }
        guard needsCleaning || (previousWasSlash && path.utf8.count > 1) else { return path }
        return "/" + path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }

    /// The endpoints whose requests are counted in the metrics and the ledger, by path.
    private static let accountedEndpoints = [
        "/v1/chat/completions": ChatCompletionsHandler.endpoint,
        "/v1/embeddings": EmbeddingsHandler.endpoint,
        "/v1/messages": MessagesHandler.endpoint,
        "/v1/responses": ResponsesHandler.endpoint,
    ]

    private static func envelope(for error: HTTPError, request: Request) -> GatewayError {
        switch error.status {
        case .notFound where knownPaths.contains(request.uri.path):
            return GatewayError(
                status: .methodNotAllowed,
                message: "\(EchoedName.shortened(request.method.rawValue)) is not allowed on \(EchoedName.shortened(request.uri.path)).",
                type: "invalid_request_error",
                code: "method_not_allowed"
            )
        case .notFound:
            return GatewayError(
                status: .notFound,
                message:
                    "Unknown endpoint: \(EchoedName.shortened(request.method.rawValue)) \(EchoedName.shortened(request.uri.path)). The gateway serves POST /v1/chat/completions, POST /v1/responses (and GET or DELETE /v1/responses/{id}), POST /v1/messages, POST /v1/messages/count_tokens, POST /v1/embeddings, GET /v1/models, POST /v1/route, GET /health, GET /ready, GET /metrics, GET /admin/breakers and /admin/keys.",
                type: "invalid_request_error",
                code: "unknown_url"
            )
        case .methodNotAllowed:
            return GatewayError(
                status: .methodNotAllowed,
                message: "\(EchoedName.shortened(request.method.rawValue)) is not allowed on \(EchoedName.shortened(request.uri.path)).",
                type: "invalid_request_error",
                code: "method_not_allowed"
            )
        default:
            return GatewayError(
                status: error.status,
                message: error.body ?? error.status.reasonPhrase,
                type: UpstreamErrorBody.defaultType(for: error.status)
            )
        }
    }

    /// Paths that exist, so a wrong method on them is 405 rather than 404.
    private static let knownPaths: Set<String> = [
        "/v1/chat/completions", "/v1/embeddings", "/v1/messages", "/v1/messages/count_tokens", "/v1/responses", "/v1/models",
        "/v1/route", "/health", "/ready", "/metrics", "/admin/breakers", "/admin/keys",
    ]

    /// Finds who sent the request, setting `caller`; the error to answer when it may not proceed.
    ///
    /// - The master key may do anything.
    /// - A virtual key may call `/v1/*`, within its limits; a revoked one is refused.
    /// - Without a master key the gateway is open: any request proceeds, and one that presents a
    ///   virtual key is still held to that key's limits. `/admin/keys` then refuses everyone, since
    ///   keys are managed only under a master key.
    /// - Otherwise the request is refused.
    private static func authenticate(
        _ request: Request,
        path: String,
        runtime: GatewayRuntime,
        caller: inout RequestCaller
    ) -> GatewayError? {
        let presented = presentedKey(in: request)
        if let masterKey = runtime.masterKey, let presented, ConstantTime.equals(Array(presented.utf8), masterKey) {
            caller = .master
            return nil
        }
        let isAdmin = path.hasPrefix("/admin")
        if let presented, presented.hasPrefix(KeySecret.scheme), let key = runtime.keys.key(for: presented) {
            if let revokedAt = key.revokedAt {
                return GatewayError(
                    status: .unauthorized,
                    message:
                        "The key '\(key.name)' (\(key.prefix)…) was revoked on \(revokedAt.formatted(.iso8601)). Ask the gateway's operator for a new one.",
                    type: "invalid_request_error",
                    code: "invalid_api_key"
                )
            }
            if isAdmin { return adminRefusal }
            caller = RequestCaller(key: key)
            return nil
        }
        if runtime.masterKey == nil {
            if path.hasPrefix("/admin/keys") {
                return GatewayError(
                    status: .forbidden,
                    message:
                        "Keys are managed over HTTP only when the gateway has a master key: set auth.master_key (MULTIPRODIGY_MASTER_KEY), or use 'multiprodigy keys'.",
                    type: "invalid_request_error",
                    code: "master_key_required"
                )
            }
            caller = .anonymous
            return nil
        }
        return GatewayError(
            status: .unauthorized,
            message: "Incorrect or missing API key. Send the gateway's key as 'Authorization: Bearer <key>' or 'x-api-key'.",
            type: "invalid_request_error",
            code: "invalid_api_key"
        )
    }

    private static let adminRefusal = GatewayError(
        status: .forbidden,
        message: "The /admin endpoints need the gateway's master key; a virtual key cannot use them.",
        type: "invalid_request_error",
        code: "master_key_required"
    )

    /// The key sent as a bearer token or `x-api-key`.
    private static func presentedKey(in request: Request) -> Substring? {
        if let authorization = request.headers[.authorization] {
            let prefix = "Bearer "
            if authorization.count > prefix.count, authorization.prefix(prefix.count).lowercased() == prefix.lowercased() {
                return authorization.dropFirst(prefix.count)
            }
        }
        return request.headers[HTTPField.Name("x-api-key")!].map { Substring($0) }
    }
}
