import Foundation
import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// `/ui/api/*`: the JSON the dashboard's pages read, for a logged-in session (``DashboardHandler``).
///
/// Reads come from the usage ledger (shared by every replica) and from this replica's breakers, health probes
/// and latency estimates. A call that changes something (creating or revoking a key) must carry the session's
/// CSRF token in `X-CSRF-Token`. Keys and route explanations are answered by the same handlers as
/// `/admin/keys` and `/v1/route`, as the master key.
struct DashboardAPI: Sendable {
    let dashboard: DashboardHandler
    let ledger: UsageLedger
    let tracker: LatencyTracker
    let health: ProviderHealthBoard
    let metrics: GatewayMetrics

    /// The most request rows one page holds.
    static let maximumPageRows = 200
    /// How far back the targets page counts errors.
    static let recentErrorsWindow = 900.0
    /// The most requests the targets page reads for its errors: the newest of the window.
    static let recentErrorsRows = 5000

    /// Runs `body` as the master key for a live session; 401 without one, 403 when a call that changes
    /// something lacks the session's CSRF token.
    func authorized(
        _ request: Request,
        context: GatewayRequestContext,
        _ body: (GatewayRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let session = dashboard.session(of: request) else {
            return Self.error(.unauthorized, "Your dashboard session ended; log in again.", code: "session_expired")
        }
        if request.method != .get && request.method != .head {
            let presented = request.headers[.csrfToken] ?? ""
            guard ConstantTime.equals(Array(presented.utf8), Array(session.csrfToken.utf8)) else {
                return Self.error(.forbidden, "This call must come from the dashboard's own page.", code: "csrf_failed")
            }
        }
        var context = context
        context.caller = .master
        var response = try await body(context)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// `GET /ui/api/overview?window=15m|24h|7d` with optional `route`, `model`, `provider`, `key` filters.
    func overview(_ request: Request) async throws -> Response {
        let parameters = request.uri.queryParameters
        let window = parameters["window"].flatMap { DashboardOverview.Window(rawValue: String($0)) } ?? .quarterHour
        let now = Date()
        var query = LedgerQuery(since: now.addingTimeInterval(-window.seconds), limit: DashboardOverview.maximumRows)
        query.newestByTime = true
        query.route = parameters["route"].map(String.init)
        query.model = parameters["model"].map(String.init)
        query.provider = parameters["provider"].map(String.init)
        query.keyName = parameters["key"].map(String.init)
        // Rows first, then the totals of the rows up to the newest one read: rows committed between the two reads
        // count in neither.
        let (rows, totals) = try await storeCall {
            let rows = try await ledger.rows(query)
            var counted = query
            counted.beforeID = (rows.map(\.id).max() ?? 0) + 1
            return (
                rows,
                rows.isEmpty
                    ? LedgerTotals(requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUSD: 0)
                    : try await ledger.totals(counted)
            )
        }
        return Self.json(
            DashboardOverview.json(rows: rows, totals: totals, window: window, now: now, sinceStart: metrics.sinceStart)
        )
    }

    /// `GET /ui/api/targets`: every declared model's target with its breaker, health, latency estimate, requests
    /// in flight (this replica's) and the errors of the last 15 minutes by kind (from the ledger: every replica's,
    /// in the newest ``recentErrorsRows`` requests).
    func targets(runtime: GatewayRuntime) async throws -> Response {
        let now = ContinuousClock.now
        let breakers = Dictionary(runtime.breakers.snapshot().map { ($0.key, $0.state) }, uniquingKeysWith: { first, _ in first })
        var recentQuery = LedgerQuery(since: Date().addingTimeInterval(-Self.recentErrorsWindow), limit: Self.recentErrorsRows)
        recentQuery.newestByTime = true
        let recent = try await storeCall { try await ledger.rows(recentQuery) }
        var errors: [Substring: [Substring: Int]] = [:]
        for row in recent {
            for step in row.record.path ?? [] {
                let outcome = DashboardOverview.outcome(of: step)
                guard outcome != "ok" else { continue }
                errors[DashboardOverview.target(of: step), default: [:]][outcome, default: 0] += 1
            }
        }
        let targets: [JSONValue] = runtime.config.models.map { model in
            let target = RouteTarget(name: model.name, providerName: model.provider, upstreamModel: model.upstreamModel)
            let observation = tracker.observation(for: target.statisticsKey)
            // A target no request has reached yet has no breaker: it is closed, without failures.
            let state = breakers[target.statisticsKey] ?? .closed(consecutiveFailures: 0)
            let breaker = BreakerStatusHandler.details(of: state, now: now)
            let probe = health.probe(for: model.provider)
            var kinds = JSONObject()
            for (kind, count) in (errors[Substring(model.name)] ?? [:]).sorted(by: { $0.key < $1.key }) {
                kinds[String(kind)] = .integer(count)
            }
            return [
                "target": .string(model.name),
                "provider": .string(model.provider),
                "model": .string(model.upstreamModel),
                "breaker": .string(state.name),
                "retry_in_seconds": breaker.retryInSeconds.map { .double($0) } ?? .null,
                "consecutive_failures": .integer(breaker.consecutiveFailures ?? 0),
                "health": .string(probe.map { $0.isHealthy ? "up" : "down" } ?? "unknown"),
                "health_detail": probe?.detail.map { .string($0) } ?? .null,
                "predicted_latency_seconds": observation.totalSeconds.map { .double($0) } ?? .null,
                "predicted_first_token_seconds": observation.firstTokenSeconds.map { .double($0) } ?? .null,
                "in_flight": .integer(observation.inFlight),
                "errors": .object(kinds),
            ]
        }
        return Self.json(["targets": .array(targets)])
    }

    /// `GET /ui/api/requests`: ledger rows, newest first, a page at a time (`limit`, `before`), filtered by
    /// `route`, `key`, `model`, `provider`, `api` and `status` (`ok`, `error` or a number). Never a prompt or an
    /// answer: the ledger has none.
    func requests(_ request: Request) async throws -> Response {
        let parameters = request.uri.queryParameters
        let limit = min(Self.maximumPageRows, max(1, parameters["limit"].flatMap { Int(String($0)) } ?? 50))
        var query = LedgerQuery(limit: limit + 1)
        query.beforeID = parameters["before"].flatMap { Int64(String($0)) }
        query.route = parameters["route"].map(String.init)
        query.keyName = parameters["key"].map(String.init)
        query.model = parameters["model"].map(String.init)
        query.provider = parameters["provider"].map(String.init)
        query.endpoint = parameters["api"].map(String.init)
        switch parameters["status"].map(String.init) {
        case "ok"?: query.status = .succeeded
        case "error"?: query.status = .failed
        case let code?: if let code = Int(code) { query.status = .exactly(code) }
        case nil: break
        }
        let rows = try await storeCall { try await ledger.rows(query) }
        let page = rows.prefix(limit)
        let json: [JSONValue] = page.map { row in
            let record = row.record
            return [
                "id": .integer(Int(row.id)),
                "time": .double(record.time.timeIntervalSince1970),
                "request_id": .string(record.requestID),
                "key": record.keyName.map { .string($0) } ?? .null,
                "api": .string(record.endpoint),
                "route": .string(record.route),
                "provider": record.provider.map { .string($0) } ?? .null,
                "model": record.model.map { .string($0) } ?? .null,
                "path": .array((record.path ?? []).map { .string($0) }),
                "status": .integer(record.status),
                "prompt_tokens": .integer(record.promptTokens),
                "completion_tokens": .integer(record.completionTokens),
                "cost_usd": .double(record.costUSD),
                "latency_seconds": .double(record.latencySeconds),
                "ttft_seconds": record.timeToFirstTokenSeconds.map { .double($0) } ?? .null,
                "attempts": .integer(record.attempts),
            ]
        }
        let next: JSONValue = rows.count > limit ? page.last.map { .integer(Int($0.id)) } ?? .null : .null
        return Self.json(["rows": .array(json), "next": next])
    }

    /// `GET /ui/api/routes`: the routes and declared models a request may name, for the route explainer.
    func routes(runtime: GatewayRuntime) -> Response {
        let config = runtime.config
        let routes: [JSONValue] = config.routes.map { route in
            [
                "name": .string(route.name),
                "policy": .string(route.policy.rawValue),
                "targets": .array((route.targets + route.fallback).map { .string($0) }),
            ]
        }
        return Self.json([
            "routes": .array(routes),
            "models": .array(config.models.map { .string($0.name) }),
            "policies": .array(RoutingPolicy.allCases.map { .string($0.rawValue) }),
        ])
    }

    /// A ledger read that fails answers 503 with the database's trouble, not a generic 500.
    private func storeCall<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw GatewayError.storageUnavailable("The usage ledger could not be read", error: error)
        }
    }

    /// `value` as a JSON answer with the dashboard's headers.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var headers = DashboardHandler.securityHeaders
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: value.buffer))
    }

    /// An error in OpenAI's envelope with the dashboard's headers.
    static func error(_ status: HTTPResponse.Status, _ message: String, code: String) -> Response {
        json(["error": ["message": .string(message), "type": "invalid_request_error", "code": .string(code)]], status: status)
    }
}
