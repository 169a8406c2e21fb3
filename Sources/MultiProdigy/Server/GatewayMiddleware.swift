import HTTPTypes
import Hummingbird
import NIOCore

/// Gives every request an id, checks the master key, and turns every error into OpenAI's envelope.
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    /// The running configuration's runtime: its master key, and its accounting for requests that
    /// end in an error before a handler could account for them.
    let runtime: @Sendable () -> GatewayRuntime

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = RequestIdentifier.next()
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        let runtime = runtime()
        var response: Response
        if let masterKey = runtime.masterKey, request.uri.path.hasPrefix("/v1/") || request.uri.path.hasPrefix("/admin"),
            !Self.presents(masterKey, in: request)
        {
            response = GatewayError(
                status: .unauthorized,
                message: "Incorrect or missing API key. Send the gateway's key as 'Authorization: Bearer <key>' or 'x-api-key'.",
                type: "invalid_request_error",
                code: "invalid_api_key"
            ).response()
        } else {
            if runtime.masterKey != nil { context.caller = .master }
            // Handlers account for the answers they return; a thrown error ends a request before that.
            var threw = true
            do {
                response = try await next(request, context)
                threw = false
            } catch let error as GatewayError {
                response = error.response()
            } catch let error as HTTPError {
                response = Self.envelope(for: error, request: request).response(headers: error.headers)
            } catch is NIOTooManyBytesError {
                response = GatewayError(
                    status: .contentTooLarge,
                    message: "The request body is too large.",
                    type: "invalid_request_error",
                    code: "request_too_large"
                )
                .response()
            } catch {
                context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
                response = GatewayError(
                    status: .internalServerError,
                    message: "The gateway hit an internal error; the request id is \(requestID).",
                    type: "server_error"
                )
                .response()
            }
            if threw, let endpoint = Self.accountedEndpoints[request.uri.path] {
                // The handler stopped before it could account for the request (a bad body, an
                // unknown model, a limit): it still counts.
                runtime.accounting.finish(
                    RequestMeter(context).outcome(endpoint: endpoint, route: nil, target: nil, status: response.status.code, attempts: 0)
                )
            }
        }
        response.headers[GatewayHeader.requestID] = requestID
        return response
    }

    /// The endpoints whose requests are counted in the metrics and the ledger, by path.
    private static let accountedEndpoints = [
        "/v1/chat/completions": ChatCompletionsHandler.endpoint,
        "/v1/embeddings": EmbeddingsHandler.endpoint,
    ]

    private static func envelope(for error: HTTPError, request: Request) -> GatewayError {
        switch error.status {
        case .notFound where knownPaths.contains(request.uri.path):
            return GatewayError(
                status: .methodNotAllowed,
                message: "\(request.method) is not allowed on \(request.uri.path).",
                type: "invalid_request_error",
                code: "method_not_allowed"
            )
        case .notFound:
            return GatewayError(
                status: .notFound,
                message:
                    "Unknown endpoint: \(request.method) \(request.uri.path). The gateway serves POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models, POST /v1/route, GET /health, GET /ready, GET /metrics and GET /admin/breakers.",
                type: "invalid_request_error",
                code: "unknown_url"
            )
        case .methodNotAllowed:
            return GatewayError(
                status: .methodNotAllowed,
                message: "\(request.method) is not allowed on \(request.uri.path).",
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
        "/v1/chat/completions", "/v1/embeddings", "/v1/models", "/v1/route", "/health", "/ready", "/metrics", "/admin/breakers",
    ]

    /// Whether the request carries `key` as a bearer token or `x-api-key`, compared in constant time.
    private static func presents(_ key: [UInt8], in request: Request) -> Bool {
        var candidate: Substring?
        if let authorization = request.headers[.authorization] {
            let prefix = "Bearer "
            if authorization.count > prefix.count, authorization.prefix(prefix.count).lowercased() == prefix.lowercased() {
                candidate = authorization.dropFirst(prefix.count)
            }
        }
        if candidate == nil, let apiKey = request.headers[HTTPField.Name("x-api-key")!] { candidate = Substring(apiKey) }
        guard let candidate else { return false }
        return ConstantTime.equals(Array(candidate.utf8), key)
    }
}
